/**
 * The load balancer's TLS material, checked before anything is declared: a certificate (with its chain) and
 * its private key, both PEM, that belong together and cover the public URL's host. Pure; nothing here prints
 * the key.
 */
import { createPrivateKey, KeyObject, X509Certificate } from "node:crypto";
import { isIP } from "node:net";

export interface TlsMaterial {
    /** The server certificate first, then its intermediates, PEM. */
    certificatePem: string;
    keyPem: string;
}

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Certificates closer than this to their end date get a warning in `pulumi up`. */
export const CERTIFICATE_WARNING_DAYS = 14;

/** What is wrong with the material for serving `publicHostname`, one problem per entry. */
export function tlsMaterialProblems(material: TlsMaterial, publicHostname: string): string[] {
    const [first] = material.certificatePem.match(CERTIFICATE_BLOCK) ?? [];
    if (first === undefined) return ["tlsCertificate: is not a PEM certificate (no -----BEGIN CERTIFICATE----- block); give the server certificate followed by its intermediates"];
    let certificate: X509Certificate;
    try {
        certificate = new X509Certificate(first);
    } catch (error) {
        return [`tlsCertificate: its first certificate does not parse (${(error as Error).message})`];
    }
    let key: KeyObject;
    try {
        key = createPrivateKey(material.keyPem);
    } catch {
        return ["tlsKey: is not an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----, RSA or EC)"];
    }
    const problems: string[] = [];
    if (!certificate.checkPrivateKey(key)) problems.push("tlsKey: does not belong to the first certificate of tlsCertificate");
    const covered = isIP(publicHostname) ? certificate.checkIP(publicHostname) : certificate.checkHost(publicHostname);
    if (covered === undefined) {
        problems.push(`tlsCertificate: does not cover ${publicHostname}, the host of the public URL (hostname); it names ${certificate.subjectAltName ?? certificate.subject}`);
    }
    return problems;
}

/** Warnings about a certificate that parses: expired, or expiring soon. */
export function certificateWarnings(certificatePem: string, now: Date): string[] {
    const first = certificatePem.match(CERTIFICATE_BLOCK)?.[0];
    if (!first) return [];
    const validTo = new Date(new X509Certificate(first).validTo);
    const daysLeft = (validTo.getTime() - now.getTime()) / 86_400_000;
    if (daysLeft < 0) return [`tlsCertificate expired on ${validTo.toISOString()}: browsers and clients refuse the load balancer until it is replaced`];
    if (daysLeft < CERTIFICATE_WARNING_DAYS) return [`tlsCertificate expires on ${validTo.toISOString()} (in ${Math.floor(daysLeft)} days): set the renewed certificate and key and run pulumi up`];
    return [];
}

/** The file HAProxy reads: certificate, chain and key concatenated. */
export function haproxyPem(material: TlsMaterial): string {
    return `${material.certificatePem.trim()}\n${material.keyPem.trim()}\n`;
}
