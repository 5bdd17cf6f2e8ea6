import { closeSync, openSync, writeSync } from 'fs';
import { TextSink } from '../constructs/json-text';
import { textSlices } from '../render/large-text';

/** Bytes handed to the kernel per write: small enough to reuse the same memory for every chunk. */
const CHUNK_CHARS = 1 << 16;

/**
 * A file written as UTF-8 in chunks of about 64 KiB. `writeFileSync` of one string of a stack's
 * whole text needs that text and a UTF-8 copy of it in fresh memory at once (hundreds of MB for a
 * full cluster), and touching fresh memory is what a large synthesis spends most on; written in
 * chunks, the same few buffers serve the whole file.
 */
export class ChunkedFile implements TextSink {
  private readonly fd: number;
  /** A UTF-8 character is at most 3 bytes per UTF-16 unit; a flush holds under 2 chunks of text. */
  private readonly bytes = Buffer.allocUnsafe(CHUNK_CHARS * 6);
  private pending: string[] = [];
  private pendingChars = 0;

  constructor(path: string) {
    this.fd = openSync(path, 'w');
  }

  write(text: string): void {
    if (text.length < CHUNK_CHARS) {
      this.pending.push(text);
      this.pendingChars += text.length;
      if (this.pendingChars >= CHUNK_CHARS) this.flush();
      return;
    }
    this.flush();
    for (const slice of textSlices(text, CHUNK_CHARS)) this.writeText(slice);
  }

  close(): void {
    try {
      this.flush();
    } finally {
      closeSync(this.fd);
    }
  }

  private flush(): void {
    if (this.pendingChars === 0) return;
    const text = this.pending.length === 1 ? this.pending[0] : this.pending.join('');
    this.pending = [];
    this.pendingChars = 0;
    this.writeText(text);
  }

  private writeText(text: string): void {
    const length = this.bytes.write(text, 0, 'utf8');
    for (let offset = 0; offset < length; ) offset += writeSync(this.fd, this.bytes, offset, length - offset);
  }
}

/** Writes a file through `write(sink)`; the file is closed even when writing fails. */
export function writeChunked(path: string, write: (sink: TextSink) => void): void {
  const file = new ChunkedFile(path);
  try {
    write(file);
  } finally {
    file.close();
  }
}
