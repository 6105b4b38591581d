namespace Credentials.Grains;

/// <summary>
/// <c>GetGrain&lt;IOrgGrain&gt;(key)</c> resolves the interface's grain type by reflection on every
/// call (about 5 % of an issuer page read's CPU when profiled); the org grain's types never change,
/// so they are resolved once and each reference is built from its id.
/// </summary>
public static class OrgGrainReferences
{
    private sealed record Types(GrainType Grain, GrainInterfaceType Interface);

    // A reference, so a thread never sees half of it.
    private static Types? s_types;

    public static IOrgGrain GetOrgGrain(this IGrainFactory grains, string org)
    {
        if (s_types is { } types) return (IOrgGrain)grains.GetGrain(GrainId.Create(types.Grain, org), types.Interface);
        var reference = (GrainReference)(object)grains.GetGrain<IOrgGrain>(org);
        s_types = new Types(reference.GrainId.Type, reference.InterfaceType);
        return (IOrgGrain)(object)reference;
    }
}
