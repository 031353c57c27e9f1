using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using NSubstitute;
using Tokenizer.Core.Audit;

namespace Tokenizer.Server.Tests.Audit;

/// <summary>Builders shared by the audit unit tests.</summary>
internal static class AuditTestSupport
{
    public static DateTimeOffset T0 { get; } = new(2026, 11, 20, 9, 30, 0, TimeSpan.Zero);

    /// <summary>An HttpContext as the server would have it: an authenticated caller, a peer address, a trace id.</summary>
    public static DefaultHttpContext Http(string? callerId = "billing-service", string address = "10.1.2.3", bool authenticated = true)
    {
        var http = new DefaultHttpContext { TraceIdentifier = "0HN-trace:00000001" };
        http.Connection.RemoteIpAddress = IPAddress.Parse(address);
        var claims = callerId is null ? [] : new[] { new Claim(ClaimTypes.NameIdentifier, callerId) };
        http.User = new ClaimsPrincipal(new ClaimsIdentity(claims, authenticated ? "Certificate" : null));
        return http;
    }

    /// <summary>A substitute trail that keeps what it was given.</summary>
    public static (IAuditTrail Trail, List<(AuditEvent Event, CancellationToken Token)> Appended) RecordingTrail()
    {
        var appended = new List<(AuditEvent, CancellationToken)>();
        var trail = Substitute.For<IAuditTrail>();
        trail.AppendAsync(Arg.Any<AuditEvent>(), Arg.Any<CancellationToken>())
            .Returns(call =>
            {
                lock (appended)
                {
                    appended.Add((call.Arg<AuditEvent>(), call.Arg<CancellationToken>()));
                }

                return Task.CompletedTask;
            });
        return (trail, appended);
    }

    /// <summary>A substitute trail whose every append fails, as a full disk or a broken file would.</summary>
    public static IAuditTrail FailingTrail()
    {
        var trail = Substitute.For<IAuditTrail>();
        trail.AppendAsync(Arg.Any<AuditEvent>(), Arg.Any<CancellationToken>())
            .Returns(Task.FromException(new IOException("disk full")));
        return trail;
    }
}
