using ShieldCluster.Server.Apis;
using ShieldCluster.Server.Extensions;
using ShieldCluster.Server.Grpc;
using ShieldCluster.Server.Hosting;

try
{
    var builder = WebApplication.CreateBuilder(args);
    builder.AddShieldOptions().AddShieldOrleans().AddShieldOperations().AddShieldInference().AddShieldHttp();
    builder.AddShieldGrpc(httpUrls: builder.Configuration["urls"] ?? "http://127.0.0.1:8080");

    var app = builder.Build();
    app.UseShieldHttp();
    app.MapShieldDashboard();
    app.MapHealthApi().MapModelsApi().MapAdminApi().MapMetricsApi();
    app.MapShieldGrpc();
    app.MapSecurityConsole();
    await app.RunAsync();
    return 0;
}
catch (Exception ex) when (StartupFailure.IsConfiguration(ex))
{
    await Console.Error.WriteLineAsync($"ShieldCluster did not start: {StartupFailure.Describe(ex)}");
    return 1;
}
