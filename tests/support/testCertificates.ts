/**
 * A throwaway certificate authority and server certificates, made with the openssl CLI for each test run:
 * nothing is checked in, and every key stays in a temporary directory.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCertificate {
    /** The server certificate followed by the CA certificate (a chain, as a real deployment gives it). */
    certificatePem: string;
    keyPem: string;
    caPem: string;
}

export interface ServerCertificateOptions {
    /** subjectAltName entries, e.g. ["DNS:localhost", "IP:127.0.0.1"]. */
    names: string[];
    /** Days of validity from now (an expired certificate is tested by moving "now" instead). */
    days?: number;
}

export class TestCertificateAuthority {
    private readonly dir = mkdtempSync(join(tmpdir(), "kc-test-ca-"));
    readonly caPem: string;

    constructor() {
        this.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "60", "-subj", "/CN=keycloak-cluster test CA"]);
        this.caPem = readFileSync(join(this.dir, "ca.pem"), "utf8");
    }

    /** A server certificate signed by this CA. */
    issue(options: ServerCertificateOptions): TestCertificate {
        const name = `server-${Math.random().toString(36).slice(2)}`;
        this.openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", "/CN=keycloak-cluster test server"]);
        writeFileSync(join(this.dir, `${name}.ext`), `subjectAltName=${options.names.join(",")}\nextendedKeyUsage=serverAuth\n`);
        this.openssl(["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.pem`, "-extfile", `${name}.ext`, "-days", String(options.days ?? 30)]);
        return {
            certificatePem: readFileSync(join(this.dir, `${name}.pem`), "utf8") + this.caPem,
            keyPem: readFileSync(join(this.dir, `${name}.key`), "utf8"),
            caPem: this.caPem,
        };
    }

    dispose(): void {
        rmSync(this.dir, { recursive: true, force: true });
    }

    private openssl(args: string[]): void {
        execFileSync("openssl", args, { cwd: this.dir, stdio: ["ignore", "ignore", "pipe"] });
    }
}
