/**
 * Virtual (guest-visible) disk size from image headers, computed while the upload streams by
 * (Glance's format_inspector; qemu-img may not be installed). Only the first and the last
 * 512 bytes are kept, so memory use does not depend on the image size.
 */
const HEAD = 1024;
const TAIL = 512;

export class VirtualSizeInspector {
  private head = Buffer.alloc(0);
  private tail = Buffer.alloc(0);
  private total = 0;

  update(chunk: Buffer): void {
    this.total += chunk.length;
    if (this.head.length < HEAD) this.head = Buffer.concat([this.head, chunk.subarray(0, HEAD - this.head.length)]);
    const joined = this.tail.length + chunk.length > TAIL ? Buffer.concat([this.tail, chunk.subarray(Math.max(0, chunk.length - TAIL))]) : Buffer.concat([this.tail, chunk]);
    this.tail = joined.subarray(Math.max(0, joined.length - TAIL));
  }

  /** The virtual size for `diskFormat`, or null when the format has no inspector or the header does not match. */
  virtualSize(diskFormat: string | null): number | null {
    switch (diskFormat) {
      case 'raw':
        return this.total;
      case 'qcow2':
        return qcow2Size(this.head);
      case 'vmdk':
        return vmdkSize(this.head);
      case 'vhd':
        return vhdSize(this.tail) ?? vhdSize(this.head);
      case 'vdi':
        return vdiSize(this.head);
      default:
        return null;
    }
  }
}

/** QCOW2: "QFI\xfb" magic, then the size in bytes as a big-endian u64 at offset 24. */
export function qcow2Size(head: Buffer): number | null {
  if (head.length < 32 || head.readUInt32BE(0) !== 0x514649fb) return null;
  return Number(head.readBigUInt64BE(24));
}

/** VMDK sparse extent: "KDMV" magic, capacity in 512-byte sectors as little-endian u64 at offset 12. */
export function vmdkSize(head: Buffer): number | null {
  if (head.length < 20 || head.toString('latin1', 0, 4) !== 'KDMV') return null;
  return Number(head.readBigUInt64LE(12)) * 512;
}

/** VHD footer (last 512 bytes, copied at the start of dynamic disks): "conectix", current size BE u64 at 48. */
export function vhdSize(block: Buffer): number | null {
  if (block.length < 512) return null;
  const footer = block.subarray(block.length - 512);
  const at = footer.toString('latin1', 0, 8) === 'conectix' ? footer : block.toString('latin1', 0, 8) === 'conectix' ? block : null;
  if (!at) return null;
  return Number(at.readBigUInt64BE(48));
}

/** VDI: signature 0xbeda107f (LE) at offset 64, disk size LE u64 at offset 368. */
export function vdiSize(head: Buffer): number | null {
  if (head.length < 376 || head.readUInt32LE(64) !== 0xbeda107f) return null;
  return Number(head.readBigUInt64LE(368));
}
