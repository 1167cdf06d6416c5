using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using ShieldCluster.Server.Grpc.Protocol;

namespace ShieldCluster.LoadGen;

/// <summary>
/// Sends the requests of one phase over one wire, with the keys that phase uses. <c>SendAsync</c>
/// gives an HTTP status (gRPC status codes mapped to their HTTP equivalents), <see cref="TransportError"/>
/// for a transport failure or <see cref="BadOutput"/> for a 200 whose output is not the model's.
/// </summary>
internal abstract class InferTransport : IDisposable
{
    /// <summary>The request never got an answer (connection refused or reset, timeout).</summary>
    public const int TransportError = 0;

    /// <summary>A 200 whose output does not have the model's number of values.</summary>
    public const int BadOutput = 1;

    /// <summary>Triton's binary tensor extension: the JSON header's length, on requests and responses.</summary>
    public const string BinaryHeader = "Inference-Header-Content-Length";

    private static readonly byte[] BinaryHeaderBytes = System.Text.Encoding.ASCII.GetBytes(BinaryHeader);

    /// <summary><see cref="BinaryHeader"/> as UTF-8.</summary>
    public static ReadOnlySpan<byte> BinaryHeaderUtf8 => BinaryHeaderBytes;

    protected InferTransport(RequestFactory factory) => Factory = factory;

    protected RequestFactory Factory { get; }

    /// <summary>Bytes of the output on the wire (always FP32).</summary>
    protected int OutputBytes => Factory.Spec.OutputElements * 4;

    /// <summary>
    /// A transport to <paramref name="server"/> for <paramref name="keys"/>, sized for
    /// <paramref name="connections"/> concurrent requests; gRPC opens one channel (one HTTP/2
    /// connection) per <paramref name="workersPerChannel"/> of them.
    /// </summary>
    public static InferTransport Create(RequestFactory factory, ServerTarget server, string model, IReadOnlyList<string> keys, int connections, int workersPerChannel,
        HttpClientKind httpClient = HttpClientKind.Raw) =>
        factory.Wire == Wire.Grpc
            ? new GrpcTransport(factory, server.GrpcAddress ?? throw new InvalidOperationException($"the {server.Name} server has no gRPC address (--{server.Name}-grpc-url)"),
                keys, (connections + workersPerChannel - 1) / workersPerChannel)
            : new HttpTransport(factory, server.BaseAddress, model, keys, connections, httpClient);

    public abstract Task<int> SendAsync(RequestSlot slot, int key, CancellationToken cancellation);

    /// <summary>One request whose answer is read and checked; throws with the server's answer if it is not a 200 with the model's output.</summary>
    public abstract Task VerifyAsync(RequestSlot slot, int key, string target);

    public abstract void Dispose();
}

/// <summary>
/// JSON or binary tensors over HTTP/1.1 keep-alive connections, one per concurrent request: the
/// generator's own client (<see cref="HttpClientKind.Raw"/>, the default) or HttpClient. The check of
/// a request before a phase (<see cref="VerifyAsync"/>) always goes through HttpClient, a second
/// reading of the same server.
/// </summary>
internal sealed class HttpTransport : InferTransport
{
    /// <summary>A request's limit, as HttpClient.Timeout.</summary>
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(60);

    private readonly HttpClient _http;
    private readonly Uri _infer;
    private readonly string[] _authorizations;
    private readonly bool _binary;
    private readonly string _contentType;
    private readonly RawHttpPool? _raw;
    private readonly byte[][] _heads = [];

    public HttpTransport(RequestFactory factory, Uri baseAddress, string model, IReadOnlyList<string> keys, int maxConnections, HttpClientKind kind = HttpClientKind.Raw)
        : base(factory)
    {
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = Math.Max(1, maxConnections),
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            UseCookies = false,
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(10),
        };
        _http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(60) };
        _infer = new Uri(baseAddress, $"/v2/models/{model}/infer");
        _authorizations = [.. keys.Select(k => "Bearer " + k)];
        _binary = factory.Wire == Wire.Binary;
        _contentType = _binary ? "application/octet-stream" : "application/json";
        if (kind == HttpClientKind.Raw)
        {
            _raw = new RawHttpPool(IPAddress.TryParse(_infer.Host.Trim('[', ']'), out var ip) ? new IPEndPoint(ip, _infer.Port) : new DnsEndPoint(_infer.Host, _infer.Port));
            // Everything of a request but its Content-Length and body, once per key.
            var binary = _binary ? $"{BinaryHeader}: {factory.HeaderLengthText}\r\n" : "";
            _heads = [.. _authorizations.Select(a => System.Text.Encoding.ASCII.GetBytes(
                $"POST {_infer.PathAndQuery} HTTP/1.1\r\nHost: {_infer.Authority}\r\nAuthorization: {a}\r\nContent-Type: {_contentType}\r\n{binary}"))];
        }
    }

    private HttpRequestMessage Request(RequestSlot slot, int key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, _infer) { Content = new ByteArrayContent(slot.Buffer, 0, slot.Length) };
        request.Headers.TryAddWithoutValidation("Authorization", _authorizations[key]);
        request.Content.Headers.TryAddWithoutValidation("Content-Type", _contentType);
        if (_binary)
        {
            request.Headers.TryAddWithoutValidation(BinaryHeader, Factory.HeaderLengthText);
        }

        return request;
    }

    /// <summary>
    /// The answer's status, or <see cref="BadOutput"/> for a binary 200 whose body is not the JSON
    /// header (<paramref name="headerLength"/> bytes, -1 if none was given) then the output's raw FP32
    /// values: their count is the check.
    /// </summary>
    private int Checked(int status, long bodyBytes, int headerLength) =>
        _binary && status == 200 && (headerLength < 0 || bodyBytes - headerLength != OutputBytes) ? BadOutput : status;

    public override Task<int> SendAsync(RequestSlot slot, int key, CancellationToken cancellation) =>
        _raw is null ? SendWithHttpClientAsync(slot, key, cancellation) : SendRawAsync(slot, key, cancellation);

    private async Task<int> SendRawAsync(RequestSlot slot, int key, CancellationToken cancellation)
    {
        try
        {
            var answer = await _raw!.SendAsync(_heads[key], slot.Buffer.AsMemory(0, slot.Length), RequestTimeout, cancellation);
            return Checked(answer.Status, answer.BodyBytes, answer.BinaryHeaderLength);
        }
        catch (IOException)
        {
            return TransportError; // refused, reset, closed early or not HTTP as this client reads it
        }
        catch (System.Net.Sockets.SocketException)
        {
            return TransportError;
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            return TransportError; // timeout
        }
    }

    private async Task<int> SendWithHttpClientAsync(RequestSlot slot, int key, CancellationToken cancellation)
    {
        try
        {
            using var request = Request(slot, key);
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellation);
            await using var stream = await response.Content.ReadAsStreamAsync(cancellation);
            var buffer = ArrayPool<byte>.Shared.Rent(16384);
            long received = 0;
            try
            {
                int read;
                while ((read = await stream.ReadAsync(buffer, cancellation)) > 0)
                {
                    received += read;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            var status = (int)response.StatusCode;
            var header = _binary && status == 200 && response.Headers.TryGetValues(BinaryHeader, out var values)
                && int.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var h) ? h : -1;
            return Checked(status, received, header);
        }
        catch (HttpRequestException)
        {
            return TransportError;
        }
        catch (TaskCanceledException) when (!cancellation.IsCancellationRequested)
        {
            return TransportError; // timeout
        }
        catch (IOException)
        {
            return TransportError;
        }
    }

    public override async Task VerifyAsync(RequestSlot slot, int key, string target)
    {
        using var request = Request(slot, key);
        using var response = await _http.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"the {target} server answered {(int)response.StatusCode} to a valid {(_binary ? "binary" : "JSON")} request: {System.Text.Encoding.UTF8.GetString(body)}");
        }

        var expected = Factory.Spec.OutputElements;
        if (!_binary)
        {
            using var doc = JsonDocument.Parse(body);
            var output = doc.RootElement.GetProperty("outputs")[0];
            if (output.GetProperty("data").GetArrayLength() != expected)
            {
                throw new InvalidOperationException($"the {target} server answered an unexpected output (expected {expected} values): {System.Text.Encoding.UTF8.GetString(body)}");
            }

            return;
        }

        var headerLength = response.Headers.TryGetValues(BinaryHeader, out var values)
            && int.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var h) && h <= body.Length
            ? h
            : throw new InvalidOperationException($"the {target} server's binary answer has no valid {BinaryHeader} header ({body.Length} bytes)");
        using var json = JsonDocument.Parse(body.AsMemory(0, headerLength));
        var first = json.RootElement.GetProperty("outputs")[0];
        var size = first.GetProperty("parameters").GetProperty("binary_data_size").GetInt64();
        if (size != OutputBytes || body.Length - headerLength != OutputBytes)
        {
            throw new InvalidOperationException(
                $"the {target} server's binary answer has {body.Length - headerLength} bytes of output (binary_data_size {size}), expected {OutputBytes} ({expected} FP32 values): {System.Text.Encoding.UTF8.GetString(body, 0, headerLength)}");
        }
    }

    public override void Dispose()
    {
        _raw?.Dispose();
        _http.Dispose();
    }
}

/// <summary>
/// <c>inference.GRPCInferenceService/ModelInfer</c> with <c>raw_input_contents</c> over cleartext
/// HTTP/2, the key as <c>authorization: Bearer</c> metadata. Several channels, each its own
/// connection, so that one connection's flow-control window is not the ceiling.
/// </summary>
internal sealed class GrpcTransport : InferTransport
{
    private readonly GrpcChannel[] _channels;
    private readonly GRPCInferenceService.GRPCInferenceServiceClient[] _clients;
    private readonly Metadata[] _metadata;

    public GrpcTransport(RequestFactory factory, Uri address, IReadOnlyList<string> keys, int channels)
        : base(factory)
    {
        _channels = [.. Enumerable.Range(0, Math.Max(1, channels)).Select(_ => GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = true,
                // The receive windows (the server's answers); the send side is the server's setting.
                InitialHttp2StreamWindowSize = 8 << 20,
                PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
                PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
                UseCookies = false,
                UseProxy = false,
                ConnectTimeout = TimeSpan.FromSeconds(10),
            },
            DisposeHttpClient = true,
            MaxReceiveMessageSize = 64 << 20,
            MaxSendMessageSize = null,
        }))];
        _clients = [.. _channels.Select(c => new GRPCInferenceService.GRPCInferenceServiceClient(c))];
        _metadata = [.. keys.Select(k => new Metadata { { "authorization", "Bearer " + k } })];
    }

    public int Channels => _channels.Length;

    public override async Task<int> SendAsync(RequestSlot slot, int key, CancellationToken cancellation)
    {
        try
        {
            // The same 60 s limit as the HTTP wires' HttpClient.Timeout.
            using var call = _clients[slot.Index % _clients.Length].ModelInferAsync(slot.Grpc!, _metadata[key], DateTime.UtcNow.AddSeconds(60), cancellation);
            var response = await call.ResponseAsync;
            return response.RawOutputContents.Count > 0 && response.RawOutputContents[0].Length == OutputBytes ? 200 : BadOutput;
        }
        catch (RpcException ex) when (!cancellation.IsCancellationRequested)
        {
            // Unavailable with an exception of the client's own: the connection failed, the server never answered.
            return ex.StatusCode == StatusCode.Unavailable && ex.Status.DebugException is HttpRequestException or IOException
                ? TransportError
                : ToHttpStatus(ex.StatusCode);
        }
    }

    public override async Task VerifyAsync(RequestSlot slot, int key, string target)
    {
        ModelInferResponse response;
        try
        {
            using var call = _clients[slot.Index % _clients.Length].ModelInferAsync(slot.Grpc!, _metadata[key], deadline: DateTime.UtcNow.AddSeconds(60));
            response = await call.ResponseAsync;
        }
        catch (RpcException ex)
        {
            throw new InvalidOperationException($"the {target} server answered gRPC {ex.StatusCode} to a valid ModelInfer request: {ex.Status.Detail}", ex);
        }

        if (response.RawOutputContents.Count == 0 || response.RawOutputContents[0].Length != OutputBytes)
        {
            throw new InvalidOperationException(
                $"the {target} server's gRPC answer has {(response.RawOutputContents.Count == 0 ? "no raw_output_contents" : response.RawOutputContents[0].Length + " bytes of output")}, expected {OutputBytes} ({Factory.Spec.OutputElements} FP32 values): {response.Outputs}");
        }
    }

    /// <summary>The HTTP status the server would have answered (as its GrpcErrorInterceptor maps them).</summary>
    public static int ToHttpStatus(StatusCode code) => code switch
    {
        StatusCode.OK => 200,
        StatusCode.InvalidArgument => 400,
        StatusCode.Unauthenticated => 401,
        StatusCode.PermissionDenied => 403,
        StatusCode.NotFound => 404,
        StatusCode.AlreadyExists => 409,
        StatusCode.ResourceExhausted => 429,
        StatusCode.FailedPrecondition => 412,
        StatusCode.Unavailable => 503,
        StatusCode.DeadlineExceeded => 504,
        StatusCode.Internal or StatusCode.Unknown => 500,
        _ => TransportError,
    };

    public override void Dispose()
    {
        foreach (var channel in _channels)
        {
            channel.Dispose();
        }
    }
}
