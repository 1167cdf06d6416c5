using System.Net;
using ShieldCluster.Cli.Admin;

namespace ShieldCluster.Cli.Tests;

/// <summary>Status codes to exit codes and messages, including those a healthy test server never answers.</summary>
public class FailureMappingTests
{
    [Theory]
    [InlineData(HttpStatusCode.NotFound, ExitCodes.NotFound)]
    [InlineData(HttpStatusCode.Unauthorized, ExitCodes.AuthFailed)]
    [InlineData(HttpStatusCode.Forbidden, ExitCodes.AuthFailed)]
    [InlineData(HttpStatusCode.Conflict, ExitCodes.Rejected)]
    [InlineData(HttpStatusCode.BadRequest, ExitCodes.Rejected)]
    [InlineData(HttpStatusCode.UnsupportedMediaType, ExitCodes.Rejected)]
    [InlineData(HttpStatusCode.TooManyRequests, ExitCodes.Rejected)]
    [InlineData(HttpStatusCode.InternalServerError, ExitCodes.ServerUnavailable)]
    [InlineData(HttpStatusCode.BadGateway, ExitCodes.ServerUnavailable)]
    [InlineData(HttpStatusCode.ServiceUnavailable, ExitCodes.ServerUnavailable)]
    public void Failure_MapsTheStatusToItsExitCode(HttpStatusCode status, int exitCode)
    {
        var failure = AdminHttpClient.Failure(status, "GET /admin/clients/x", """{"error":"the server's words"}""");

        Assert.Equal(exitCode, failure.ExitCode);
        Assert.Equal($"the server's words (HTTP {(int)status})", failure.Message);
    }

    [Fact]
    public void Failure_404WithoutErrorBody_SaysTheRouteIsMissing()
    {
        var failure = AdminHttpClient.Failure(HttpStatusCode.NotFound, "POST /admin/clients/x/rotate-key", "");

        Assert.Equal(ExitCodes.NotFound, failure.ExitCode);
        Assert.Contains("has no route POST /admin/clients/x/rotate-key", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Failure_405_SaysTheMethodIsNotAccepted()
    {
        var failure = AdminHttpClient.Failure(HttpStatusCode.MethodNotAllowed, "DELETE /admin/clients/x", "");

        Assert.Equal(ExitCodes.Rejected, failure.ExitCode);
        Assert.Contains("does not accept DELETE", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ServerError_ControlCharactersCannotReachTheTerminal()
    {
        Assert.Equal("bad  [2J name", AdminHttpClient.ServerError("{\"error\":\"bad \\u001b[2J name\"}"));
        Assert.Null(AdminHttpClient.ServerError("<html>502</html>"));
        Assert.Null(AdminHttpClient.ServerError("{\"message\":\"not ours\"}"));
    }

    [Theory]
    [InlineData("shk_abc-DEF_123", true)]
    [InlineData("has space", false)]
    [InlineData("line\nbreak", false)]
    [InlineData("", false)]
    public void IsValidKey_OnlyVisibleAscii(string key, bool valid) =>
        Assert.Equal(valid, AdminHttpClient.IsValidKey(key));
}
