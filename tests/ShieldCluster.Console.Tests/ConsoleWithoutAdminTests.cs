using System.Net;
using ShieldCluster.Testing;

namespace ShieldCluster.Console.Tests;

/// <summary>With no admin configured there is no console: 404, as for /admin/*.</summary>
public class ConsoleWithoutAdminTests
{
    [Fact]
    public async Task NoAdminConfigured_ConsoleAndItsFilesAnswer404()
    {
        await using var server = ServerProcess.Start(ConsoleServer.Environment(withAdmins: false));
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        await server.WaitUntilReadyAsync(http, TimeSpan.FromSeconds(60));

        foreach (var path in new[] { "/console", "/console/", "/console/app.js", "/console/index.html", "/admin/clients" })
        {
            using var response = await http.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{path}: {(int)response.StatusCode}");
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        }
    }
}
