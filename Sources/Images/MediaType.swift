/// The media types this module reads and writes: the OCI image-spec's (media-types.md) and
/// their Docker image manifest v2 schema 2 counterparts, which the OCI types were derived from.
public enum MediaType {
    public static let ociIndex = "application/vnd.oci.image.index.v1+json"
    public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let ociConfig = "application/vnd.oci.image.config.v1+json"
    public static let ociLayer = "application/vnd.oci.image.layer.v1.tar"
    public static let ociLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    public static let ociLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd"
    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerConfig = "application/vnd.docker.container.image.v1+json"
    public static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    public static let dockerLayer = "application/vnd.docker.image.rootfs.diff.tar"

    /// Types that list per-platform manifests.
    package static let indexes: Set<String> = [ociIndex, dockerManifestList]
    /// Types of single-platform manifests.
    package static let manifests: Set<String> = [ociManifest, dockerManifest]
    /// What a registry client accepts when it fetches a manifest.
    package static let acceptedManifests = [ociIndex, ociManifest, dockerManifestList, dockerManifest]
    /// Layer types that can be unpacked (compression is also detected from the bytes).
    static let layers: Set<String> = [ociLayer, ociLayerGzip, ociLayerZstd, dockerLayerGzip, dockerLayer]
    /// Config types.
    static let configs: Set<String> = [ociConfig, dockerConfig]
}
