using ShieldCluster.Server.Serving;

namespace ShieldCluster.Server.Tests;

public class TensorBuffersTests
{
    [Fact]
    public void Rent_AfterReturn_GivesBackAnArrayOfExactlyThatLength()
    {
        // A length no other test uses, so the shared pool holds nothing of it yet.
        const int length = TensorBuffers.MinLength + 12_345;
        var first = TensorBuffers.Rent(length);
        Assert.Equal(length, first.Length);
        TensorBuffers.Return(first);
        Assert.Same(first, TensorBuffers.Rent(length));
        Assert.NotSame(first, TensorBuffers.Rent(length));
    }

    [Fact]
    public void SmallArrays_AreNeverKept()
    {
        var small = TensorBuffers.Rent(784);
        TensorBuffers.Return(small);
        Assert.NotSame(small, TensorBuffers.Rent(784));
    }

    [Fact]
    public void ReleaseTensors_HandsTheDataBackAndClearsIt()
    {
        const int length = TensorBuffers.MinLength + 23_456;
        var data = TensorBuffers.Rent(length);
        var request = new InferRequest();
        request.Inputs.Add(new InferInput { Name = "input", Data = data });
        request.ReleaseTensors();
        Assert.Null(request.Inputs[0].Data);
        Assert.Same(data, TensorBuffers.Rent(length));
    }
}
