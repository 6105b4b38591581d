namespace Credentials.Tests.Infrastructure;

/// <summary>
/// Two API hosts in client mode in front of one cluster, as production runs them: a node never
/// sees another node's memory. Test classes derive from it with their cluster fixture.
/// </summary>
public abstract class TwoApiNodes(ClusterFixture cluster) : IAsyncLifetime
{
    protected ClusterFixture Fixture { get; } = cluster;
    protected ApiFactory Node1 { get; private set; } = null!;
    protected ApiFactory Node2 { get; private set; } = null!;

    /// <summary>Settings both nodes get beyond the cluster's.</summary>
    protected virtual void Configure(ApiFactory node)
    {
    }

    public Task InitializeAsync()
    {
        Node1 = NewNode();
        Node2 = NewNode();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await Node1.DisposeAsync();
        await Node2.DisposeAsync();
    }

    private ApiFactory NewNode()
    {
        var node = Fixture.ClientNode();
        Configure(node);
        return node;
    }
}
