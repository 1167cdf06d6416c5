using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using ShieldCluster.Inference.Batching;

namespace ShieldCluster.Inference.Runtime;

/// <summary>
/// The buffers a model version's batches are written into for ONNX Runtime to read: FP32 or, for an
/// fp16 graph, half precision, with padding rows zeroed. On CUDA they are page-locked host memory
/// from the session's pinned allocator when it provides one (<see cref="Pinned"/>): the copy to the
/// GPU is then a DMA transfer instead of a CPU copy through a staging buffer. Pinned blocks hold one
/// full batch (<c>capacity</c> values) and are reused; larger inputs (a squeezed batch with its
/// copies) and CPU sessions use pooled managed arrays.
/// </summary>
internal sealed unsafe class InputStaging : IDisposable
{
    private readonly bool _half;
    private readonly int _capacity;
    private readonly OrtAllocator? _pinned;
    private readonly ConcurrentBag<OrtValue> _free = [];
    private readonly ConcurrentBag<OrtValue> _all = [];

    private InputStaging(bool half, int capacity, OrtAllocator? pinned)
    {
        _half = half;
        _capacity = capacity;
        _pinned = pinned;
    }

    /// <summary>Whether batches are written into page-locked (CUDA pinned) memory.</summary>
    public bool Pinned => _pinned is not null;

    /// <summary>Managed buffers only.</summary>
    public static InputStaging Managed(bool half) => new(half, 0, null);

    /// <summary>
    /// Pinned buffers of <paramref name="capacity"/> values from <paramref name="session"/>'s CUDA
    /// pinned allocator; null when the session has none (a CPU session, or a build whose pinned
    /// allocator is registered under another description).
    /// </summary>
    public static InputStaging? TryPinned(InferenceSession session, int deviceId, bool half, int capacity)
    {
        foreach (var describe in PinnedDescriptions(deviceId))
        {
            OrtMemoryInfo? info = null;
            try
            {
                info = describe();
                var allocator = new OrtAllocator(session, info);
                var staging = new InputStaging(half, capacity, allocator);

                // One block now: a description the session accepts but cannot allocate from fails here.
                staging._free.Add(staging.Allocate());
                return staging;
            }
            catch (OnnxRuntimeException)
            {
                info?.Dispose();
            }
        }

        return null;
    }

    private static IEnumerable<Func<OrtMemoryInfo>> PinnedDescriptions(int deviceId)
    {
        yield return () => new OrtMemoryInfo(OrtMemoryInfo.allocatorCUDA_PINNED, OrtAllocatorType.DeviceAllocator, deviceId, OrtMemType.CpuOutput);
        yield return () => new OrtMemoryInfo("CudaPinned", OrtMemoryInfoDeviceType.GPU, 0x10DE, deviceId,
            OrtDeviceMemoryType.HOST_ACCESSIBLE, 0, OrtAllocatorType.DeviceAllocator);
    }

    /// <summary>A buffer for <paramref name="length"/> values; dispose it to give it back.</summary>
    public Staged Rent(int length)
    {
        if (_pinned is not null && length <= _capacity)
        {
            return new Staged(this, _free.TryTake(out var block) ? block : Allocate(), length);
        }

        return new Staged(this, null, length);
    }

    /// <summary>A pinned block of <c>capacity</c> values, as a one-dimensional tensor whose memory each run views with its own shape.</summary>
    private OrtValue Allocate()
    {
        var block = OrtValue.CreateAllocatedTensorValue(_pinned!, _half ? TensorElementType.Float16 : TensorElementType.Float, [_capacity]);
        _all.Add(block);
        return block;
    }

    private int ElementSize => _half ? sizeof(ushort) : sizeof(float);

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var block in _all)
        {
            block.Dispose();
        }

        _pinned?.Dispose();
    }

    /// <summary>One batch's input buffer.</summary>
    internal sealed class Staged : IDisposable
    {
        private readonly InputStaging _owner;
        private readonly OrtValue? _block;
        private readonly float[]? _singles;
        private readonly Float16[]? _halves;
        private readonly int _length;

        public Staged(InputStaging owner, OrtValue? block, int length)
        {
            _owner = owner;
            _block = block;
            _length = length;
            if (block is null)
            {
                if (owner._half)
                {
                    _halves = ArrayPool<Float16>.Shared.Rent(length);
                }
                else
                {
                    _singles = ArrayPool<float>.Shared.Rent(length);
                }
            }
        }

        /// <summary>Writes <paramref name="input"/> at the start (as half precision for an fp16 graph) and zeroes the rest.</summary>
        public void Write(BatchInput input)
        {
            if (_owner._half)
            {
                // ONNX Runtime's Float16 and System.Half are the same IEEE 754 binary16 bits.
                var halves = MemoryMarshal.Cast<Float16, Half>(_block is null
                    ? _halves.AsSpan(0, _length)
                    : _block.GetTensorMutableDataAsSpan<Float16>()[.._length]);
                input.ConvertTo(halves);
                halves[input.Length..].Clear();
            }
            else
            {
                var singles = _block is null ? _singles.AsSpan(0, _length) : _block.GetTensorMutableDataAsSpan<float>()[.._length];
                input.CopyTo(singles);
                singles[input.Length..].Clear();
            }
        }

        /// <summary>An ONNX Runtime tensor of <paramref name="shape"/> over this buffer (dispose it before this).</summary>
        public OrtValue CreateValue(long[] shape)
        {
            if (_block is not null)
            {
                var type = _owner._half ? TensorElementType.Float16 : TensorElementType.Float;
                fixed (byte* data = _block.GetTensorMutableRawData())
                {
                    return OrtValue.CreateTensorValueWithData(_owner._pinned!.Info, type, shape, (IntPtr)data, (long)_length * _owner.ElementSize);
                }
            }

            return _owner._half
                ? OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _halves.AsMemory(0, _length), shape)
                : OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _singles.AsMemory(0, _length), shape);
        }

        /// <inheritdoc />
        public void Dispose()
        {
            if (_block is not null)
            {
                _owner._free.Add(_block);
            }
            else if (_halves is not null)
            {
                ArrayPool<Float16>.Shared.Return(_halves);
            }
            else if (_singles is not null)
            {
                ArrayPool<float>.Shared.Return(_singles);
            }
        }
    }
}
