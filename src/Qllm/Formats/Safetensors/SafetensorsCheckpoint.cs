using System.Text.Json;
using Qllm.Common;

namespace Qllm.Formats.Safetensors;

/// <summary>
/// The weights of a Hugging Face model folder, possibly spread over several safetensors files.
/// </summary>
/// <remarks>
/// Resolution follows transformers: <c>model.safetensors</c> when present; otherwise the shards
/// listed by <c>model.safetensors.index.json</c> (<c>{"metadata": {...}, "weight_map": {tensor: file}}</c>),
/// where the index is authoritative: tensors a shard holds but the index does not list are
/// ignored. Without either, the folder's <c>*.safetensors</c> files are used together if no tensor
/// name occurs in two of them (otherwise which copy is meant would be a guess, so it is an error).
/// </remarks>
public sealed class SafetensorsCheckpoint : IDisposable
{
    public const string SingleFileName = "model.safetensors";
    public const string IndexFileName = "model.safetensors.index.json";

    private readonly List<SafetensorsFile> _files;
    private readonly Dictionary<string, SafetensorsFile> _fileOf;
    private readonly List<string> _names;

    /// <summary>The folder the checkpoint was opened from.</summary>
    public string Directory { get; }

    /// <summary>The open files, in the order they were opened.</summary>
    public IReadOnlyList<SafetensorsFile> Files => _files;

    /// <summary>Tensor names: index order for a sharded checkpoint, header order otherwise.</summary>
    public IEnumerable<string> Names => _names;

    /// <summary>Number of tensors.</summary>
    public int Count => _names.Count;

    private SafetensorsCheckpoint(string directory, List<SafetensorsFile> files, Dictionary<string, SafetensorsFile> fileOf, List<string> names)
    {
        Directory = directory;
        _files = files;
        _fileOf = fileOf;
        _names = names;
    }

    /// <summary>Opens the weights of a model folder. Any problem with the files is a <see cref="ModelFormatException"/>.</summary>
    public static SafetensorsCheckpoint OpenFolder(string dir)
    {
        ArgumentException.ThrowIfNullOrEmpty(dir);
        if (!System.IO.Directory.Exists(dir))
            throw new ModelFormatException(dir, File.Exists(dir) ? "this is a file, not a model folder" : "the folder does not exist");

        string single = Path.Combine(dir, SingleFileName);
        if (File.Exists(single))
            return FromFiles(dir, [single]);

        string index = Path.Combine(dir, IndexFileName);
        if (File.Exists(index))
            return FromIndex(dir, index);

        string[] candidates = System.IO.Directory.GetFiles(dir, "*.safetensors");
        Array.Sort(candidates, StringComparer.Ordinal);
        if (candidates.Length == 0)
            throw new ModelFormatException(dir, $"the folder has no {SingleFileName}, no {IndexFileName} and no other .safetensors file");
        return FromFiles(dir, candidates);
    }

    /// <summary>All tensors of the given files; a name in two files is an error.</summary>
    private static SafetensorsCheckpoint FromFiles(string dir, string[] paths)
    {
        var files = new List<SafetensorsFile>();
        try
        {
            var fileOf = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
            var names = new List<string>();
            foreach (string path in paths)
            {
                SafetensorsFile file = SafetensorsFile.Open(path);
                files.Add(file);
                foreach (string name in file.Names)
                {
                    if (fileOf.TryGetValue(name, out SafetensorsFile? other))
                        throw new ModelFormatException(path,
                            $"the tensor is also in {other.Path}, and without {IndexFileName} it is ambiguous which one to use", name);
                    fileOf.Add(name, file);
                    names.Add(name);
                }
            }
            return new SafetensorsCheckpoint(dir, files, fileOf, names);
        }
        catch
        {
            files.ForEach(f => f.Dispose());
            throw;
        }
    }

    private static SafetensorsCheckpoint FromIndex(string dir, string indexPath)
    {
        List<(string Tensor, string Shard)> weightMap = ReadWeightMap(indexPath);

        var opened = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        var files = new List<SafetensorsFile>();
        try
        {
            var fileOf = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
            var names = new List<string>();
            foreach ((string tensor, string shard) in weightMap)
            {
                if (!opened.TryGetValue(shard, out SafetensorsFile? file))
                {
                    string shardPath = Path.Combine(dir, shard);
                    if (!File.Exists(shardPath))
                        throw new ModelFormatException(shardPath, $"the shard listed in {IndexFileName} does not exist", tensor);
                    file = SafetensorsFile.Open(shardPath);
                    files.Add(file);
                    opened.Add(shard, file);
                }
                if (!file.Contains(tensor))
                    throw new ModelFormatException(file.Path, $"{IndexFileName} maps the tensor to this shard, but the shard does not hold it", tensor);
                fileOf.Add(tensor, file);
                names.Add(tensor);
            }
            return new SafetensorsCheckpoint(dir, files, fileOf, names);
        }
        catch
        {
            files.ForEach(f => f.Dispose());
            throw;
        }
    }

    /// <summary>Parses the index's "weight_map"; shard names must be plain file names inside the folder.</summary>
    private static List<(string Tensor, string Shard)> ReadWeightMap(string indexPath)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(indexPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException(indexPath, $"cannot read the file: {e.Message}", null, e);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes);
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(indexPath, $"not valid JSON: {e.Message}", null, e);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new ModelFormatException(indexPath, "the index is not a JSON object");
            if (!document.RootElement.TryGetProperty("weight_map", out JsonElement map) || map.ValueKind != JsonValueKind.Object)
                throw new ModelFormatException(indexPath, "the index has no \"weight_map\" object");

            var entries = new List<(string, string)>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (JsonProperty entry in map.EnumerateObject())
            {
                if (!seen.Add(entry.Name))
                    throw new ModelFormatException(indexPath, "\"weight_map\" lists the tensor more than once", entry.Name);
                if (entry.Value.ValueKind != JsonValueKind.String)
                    throw new ModelFormatException(indexPath, "the \"weight_map\" value is not a file name string", entry.Name);
                string shard = entry.Value.GetString()!;
                // A shard such as "../x" or "/etc/x" would read outside the model folder.
                if (shard.Length == 0 || shard is "." or ".." || Path.GetFileName(shard) != shard ||
                    shard.AsSpan().IndexOfAny(['/', '\\']) >= 0)
                    throw new ModelFormatException(indexPath, $"\"weight_map\" names \"{shard}\", which is not a file name inside the folder", entry.Name);
                entries.Add((entry.Name, shard));
            }
            return entries;
        }
    }

    /// <summary>True when the checkpoint has a tensor called <paramref name="name"/>.</summary>
    public bool Contains(string name) => _fileOf.ContainsKey(name);

    /// <summary>The tensor's description.</summary>
    public TensorInfo Info(string name) => FileFor(name).Info(name);

    /// <summary>Path of the file that holds the tensor.</summary>
    public string FileOf(string name) => FileFor(name).Path;

    /// <inheritdoc cref="SafetensorsFile.GetBytes"/>
    public ReadOnlySpan<byte> GetBytes(string name) => FileFor(name).GetBytes(name);

    /// <inheritdoc cref="SafetensorsFile.ReadFloat32(string)"/>
    public float[] ReadFloat32(string name) => FileFor(name).ReadFloat32(name);

    /// <inheritdoc cref="SafetensorsFile.ReadFloat32(string, Span{float})"/>
    public void ReadFloat32(string name, Span<float> destination) => FileFor(name).ReadFloat32(name, destination);

    /// <inheritdoc cref="SafetensorsFile.ReadInt32(string)"/>
    public int[] ReadInt32(string name) => FileFor(name).ReadInt32(name);

    private SafetensorsFile FileFor(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _fileOf.TryGetValue(name, out SafetensorsFile? file)
            ? file
            : throw new ModelFormatException(Directory, "no such tensor in this checkpoint", name);
    }

    public void Dispose()
    {
        foreach (SafetensorsFile file in _files)
            file.Dispose();
    }
}
