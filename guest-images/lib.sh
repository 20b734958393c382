# Functions for guest-images/build (sourced, not run).

# The kernel release of an extracted linux-image package tree (its /lib/modules entry).
kernel_release() {
    local tree=$1
    ls "$tree/lib/modules" | head -n1
}

# Reads an unsigned little-endian integer of WIDTH bytes at OFFSET of FILE.
read_le() {
    od -An -t "u$3" -j "$2" -N "$3" --endian=little "$1" | tr -d ' \n'
}

# Extracts the ELF vmlinux from a bzImage whose payload is LZ4-compressed.
# Linux boot protocol: setup_sects at 0x1F1, payload_offset at 0x248 and payload_length
# at 0x24C (both relative to the protected-mode code at (setup_sects+1)*512). The kernel
# build appends the 4-byte uncompressed size to the compressed stream.
extract_vmlinux() {
    local bzimage=$1 dest=$2 setup_sects payload_offset payload_length start magic
    setup_sects=$(read_le "$bzimage" $((0x1F1)) 1)
    [ "$setup_sects" = 0 ] && setup_sects=4
    payload_offset=$(read_le "$bzimage" $((0x248)) 4)
    payload_length=$(read_le "$bzimage" $((0x24C)) 4)
    start=$(( (setup_sects + 1) * 512 + payload_offset ))
    magic=$(od -An -tx1 -j "$start" -N4 "$bzimage" | tr -d ' \n')
    [ "$magic" = 02214c18 ] || die "$bzimage: payload is not LZ4 (magic $magic)"
    dd if="$bzimage" bs=1M iflag=skip_bytes,count_bytes skip="$start" count=$((payload_length - 4)) status=none \
        | lz4 -dc > "$dest" \
        || die "LZ4 decompression of $bzimage failed"
    [ "$(head -c4 "$dest" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ] || die "extracted vmlinux is not an ELF file"
    readelf -n "$dest" | grep -q 'Unknown note type: (0x00000012)' \
        || die "extracted vmlinux has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)"
}

# Prints the modules.dep path of MODULE (dashes and underscores are interchangeable).
module_path() {
    local depfile=$1 name=$2 alt
    alt=${name//-/_}
    awk -F: -v a="$name" -v b="$alt" '{
        n = $1; sub(/.*\//, "", n); sub(/\.ko(\.[a-z]+)?$/, "", n); m = n; gsub(/-/, "_", m)
        if (n == a || m == b) { print $1; exit }
    }' "$depfile"
}

# Appends MODULE and then its dependencies' closure, dependencies first, to the array
# named by `order` (module paths relative to the modules directory), once each.
resolve_module() {
    local depfile=$1 path=$2 dep
    local -a deps
    for seen in "${order[@]}"; do [ "$seen" = "$path" ] && return 0; done
    read -r -a deps <<< "$(awk -F': *' -v p="$path" '$1 == p {print $2; exit}' "$depfile")"
    for dep in "${deps[@]}"; do resolve_module "$depfile" "$dep"; done
    order+=("$path")
}

# Builds PREFIX.cpio.gz and PREFIX.contents from a kernel package tree, busybox-static,
# an init script and a list of modules (loaded by /init in /lib/modules/load-order).
# Programs named in the variable extra_bins (space-separated paths) go to /bin too.
build_initramfs() {
    local tree=$1 release=$2 busybox=$3 init=$4 prefix=$5
    shift 5
    local stage moddir depfile name path applet
    stage=$(mktemp -d /tmp/swiftlet-initramfs.XXXXXX)
    moddir="$tree/lib/modules/$release"
    depfile="$moddir/modules.dep"
    [ -f "$depfile" ] || depmod -b "$tree" "$release"

    mkdir -p "$stage"/{bin,dev,proc,sys,tmp,run,mnt,root,etc,lib/modules,usr}
    ln -s bin "$stage/sbin"
    ln -s ../bin "$stage/usr/bin"
    ln -s ../bin "$stage/usr/sbin"
    install -m 0755 "$busybox" "$stage/bin/busybox"
    for applet in $("$busybox" --list | LC_ALL=C sort); do
        [ "$applet" = busybox ] || ln -s busybox "$stage/bin/$applet"
    done
    mknod -m 0600 "$stage/dev/console" c 5 1
    mknod -m 0666 "$stage/dev/null" c 1 3
    install -m 0755 "$init" "$stage/init"
    for path in ${extra_bins:-}; do install -m 0755 "$path" "$stage/bin/$(basename "$path")"; done
    echo "$release" > "$stage/etc/kernel-release"

    order=()
    for name in "$@"; do
        if grep -qE "/${name//-/[-_]}\.ko" "$moddir/modules.builtin"; then continue; fi
        path=$(module_path "$depfile" "$name")
        [ -n "$path" ] || die "module $name not found for kernel $release"
        resolve_module "$depfile" "$path"
    done
    : > "$stage/lib/modules/load-order"
    for path in "${order[@]}"; do
        install -m 0644 "$moddir/$path" "$stage/lib/modules/$(basename "$path")"
        basename "$path" >> "$stage/lib/modules/load-order"
    done

    chmod 0755 "$stage" "$stage"/{bin,dev,proc,sys,run,mnt,etc,lib,lib/modules,usr}
    chmod 1777 "$stage/tmp"
    chmod 0700 "$stage/root"
    find "$stage" -exec touch -h -d @0 {} +

    (cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 --reproducible) \
        | gzip -9n > "$prefix.cpio.gz.tmp"
    (cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | while read -r f; do
        if [ -L "$f" ]; then echo "link $(readlink "$f") $f"
        elif [ -f "$f" ]; then echo "$(sha256sum < "$f" | cut -d' ' -f1) $(stat -c %a "$f") $f"
        else echo "$(stat -c '%F %a %t:%T' "$f") $f"; fi
    done) > "$prefix.contents"
    mv "$prefix.cpio.gz.tmp" "$prefix.cpio.gz"
    rm -rf "$stage"
}
