using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;
using ShieldCluster.Server.Http;
using ShieldCluster.Server.Identity;
using ShieldCluster.Server.Telemetry;

namespace ShieldCluster.Server.Tests;

public class AuthFailureLimiterTests
{
    private static DefaultHttpContext From(string address) => new DefaultHttpContext { Connection = { RemoteIpAddress = IPAddress.Parse(address) } };

    [Fact]
    public void TwentyFailures_ThrottleThatAddressOnly_UntilTheBucketRefills()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
        var limiter = new AuthFailureLimiter(time, new ShieldMetrics());
        var attacker = From("203.0.113.7");
        for (var i = 0; i < 20; i++)
        {
            limiter.ThrowIfThrottled(attacker);
            limiter.RecordFailure(attacker, "client");
        }

        var refused = Assert.Throws<ApiException>(() => limiter.ThrowIfThrottled(attacker));
        Assert.Equal(StatusCodes.Status429TooManyRequests, refused.StatusCode);
        Assert.Equal(3, refused.RetryAfterSeconds);
        limiter.ThrowIfThrottled(From("203.0.113.8"));

        time.Advance(TimeSpan.FromSeconds(3));
        limiter.ThrowIfThrottled(attacker);
        limiter.RecordFailure(attacker, "client");
        Assert.Throws<ApiException>(() => limiter.ThrowIfThrottled(attacker));
    }
}
