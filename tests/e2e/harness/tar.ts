/** A minimal ustar writer: enough to hand a few regular files to Docker's putArchive. */

export interface TarFile {
    /** Path inside the archive, without a leading slash. */
    path: string;
    content: Buffer;
    mode: number;
}

const BLOCK = 512;

function writeString(header: Buffer, value: string, offset: number, length: number): void {
    const bytes = Buffer.from(value, "utf8");
    if (bytes.length > length) throw new Error(`tar: "${value}" does not fit in ${length} bytes`);
    bytes.copy(header, offset);
}

function writeOctal(header: Buffer, value: number, offset: number, length: number): void {
    // length - 1 octal digits followed by a NUL.
    writeString(header, value.toString(8).padStart(length - 1, "0"), offset, length - 1);
}

function splitPath(path: string): { name: string; prefix: string } {
    if (Buffer.byteLength(path) <= 100) return { name: path, prefix: "" };
    const cut = path.lastIndexOf("/", 155);
    if (cut <= 0 || Buffer.byteLength(path.slice(cut + 1)) > 100) throw new Error(`tar: path too long: ${path}`);
    return { name: path.slice(cut + 1), prefix: path.slice(0, cut) };
}

export function createTar(files: TarFile[]): Buffer {
    const blocks: Buffer[] = [];
    const mtime = Math.floor(Date.now() / 1000);
    for (const file of files) {
        if (file.path.startsWith("/")) throw new Error(`tar: path must be relative: ${file.path}`);
        const header = Buffer.alloc(BLOCK, 0);
        const { name, prefix } = splitPath(file.path);
        writeString(header, name, 0, 100);
        writeOctal(header, file.mode & 0o7777, 100, 8);
        writeOctal(header, 0, 108, 8); // uid
        writeOctal(header, 0, 116, 8); // gid
        writeOctal(header, file.content.length, 124, 12);
        writeOctal(header, mtime, 136, 12);
        header.fill(0x20, 148, 156); // checksum field counts as spaces while summing
        header.write("0", 156, "ascii"); // regular file
        writeString(header, "ustar\u0000", 257, 6);
        writeString(header, "00", 263, 2);
        writeString(header, "root", 265, 32);
        writeString(header, "root", 297, 32);
        writeString(header, prefix, 345, 155);
        let checksum = 0;
        for (const byte of header) checksum += byte;
        writeString(header, checksum.toString(8).padStart(6, "0") + "\u0000 ", 148, 8);
        blocks.push(header, file.content);
        const padding = (BLOCK - (file.content.length % BLOCK)) % BLOCK;
        if (padding > 0) blocks.push(Buffer.alloc(padding, 0));
    }
    blocks.push(Buffer.alloc(BLOCK * 2, 0));
    return Buffer.concat(blocks);
}
