using System.Buffers.Binary;

namespace Credentials.Tests.Telemetry;

/// <summary>
/// Just enough of the protobuf wire format to walk OTLP messages by field number: varints,
/// fixed 32/64-bit values and length-delimited fields (strings, bytes, nested messages).
/// </summary>
public static class ProtoReader
{
    public readonly record struct Field(int Number, int WireType, ulong Value, ReadOnlyMemory<byte> Bytes)
    {
        public string Text => System.Text.Encoding.UTF8.GetString(Bytes.Span);
        public string Hex => Convert.ToHexStringLower(Bytes.Span);
        public double Double => BitConverter.Int64BitsToDouble((long)Value);
    }

    public static IEnumerable<Field> Fields(ReadOnlyMemory<byte> message)
    {
        var position = 0;
        while (position < message.Length)
        {
            var key = Varint(message.Span, ref position);
            var number = (int)(key >> 3);
            var wireType = (int)(key & 7);
            switch (wireType)
            {
                case 0:
                    yield return new Field(number, wireType, Varint(message.Span, ref position), default);
                    break;
                case 1:
                    yield return new Field(number, wireType, BinaryPrimitives.ReadUInt64LittleEndian(message.Span[position..]), default);
                    position += 8;
                    break;
                case 2:
                    var length = (int)Varint(message.Span, ref position);
                    yield return new Field(number, wireType, 0, message.Slice(position, length));
                    position += length;
                    break;
                case 5:
                    yield return new Field(number, wireType, BinaryPrimitives.ReadUInt32LittleEndian(message.Span[position..]), default);
                    position += 4;
                    break;
                default:
                    throw new InvalidDataException($"Unsupported protobuf wire type {wireType}.");
            }
        }
    }

    /// <summary>The nested messages (or strings) of one repeated field.</summary>
    public static IEnumerable<ReadOnlyMemory<byte>> All(ReadOnlyMemory<byte> message, int number) =>
        Fields(message).Where(f => f.Number == number && f.WireType == 2).Select(f => f.Bytes);

    public static ReadOnlyMemory<byte> One(ReadOnlyMemory<byte> message, int number) => All(message, number).FirstOrDefault();

    private static ulong Varint(ReadOnlySpan<byte> span, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = span[position++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80) return value;
        }
    }
}
