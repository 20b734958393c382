// User namespaces for namespace containers (`--userns=auto`; user_namespaces(7),
// mount_setattr(2) MOUNT_ATTR_IDMAP): the id maps the parent writes for a child, an
// idmapped copy of the image's tree for the container's overlay, and the chowned copy
// used where the kernel or file system has no idmapped mounts.
#ifndef SWIFTLET_USERNS_H
#define SWIFTLET_USERNS_H

#include <sys/types.h>

/// Writes `/proc/<pid>/uid_map` and `gid_map` (each "0 <host> <size>\n" style text, as
/// the kernel takes it). Returns 0, or -1 with errno set and `*step` naming the file.
int sl_write_id_maps(pid_t pid, const char *uid_map, const char *gid_map, const char **step);

/// A detached, read-only, idmapped clone of the mount tree at `path` (open_tree +
/// mount_setattr), the mapping taken from a short-lived user namespace made with
/// `uid_map`/`gid_map`: what host id 0 owns shows as the map's first host id, and so on.
/// Returns the tree's fd (close-on-exec), or -1 with errno set (EINVAL, ENOSYS, EPERM or
/// EOPNOTSUPP where the kernel or the file system cannot) and `*step` naming the call.
int sl_idmapped_tree(const char *path, const char *uid_map, const char *gid_map, const char **step);

/// Shifts the owners of every file under `path` (not following symbolic links) that has
/// an id below `size` by `uid_base`/`gid_base`, restoring set-user/group-ID bits chown(2)
/// clears; ids already shifted are left alone, so running it twice is harmless. Returns 0,
/// or -1 with errno set.
int sl_shift_tree_owners(const char *path, uid_t uid_base, gid_t gid_base, unsigned size);

#endif
