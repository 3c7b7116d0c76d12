import { resolveSettings, exposureWarnings } from "../../components/config";
import { certificateWarnings, haproxyPem, tlsMaterialProblems } from "../../components/tls";
import { TestCertificate, TestCertificateAuthority } from "../support/testCertificates";

let ca: TestCertificateAuthority;
let localhost: TestCertificate;
let sso: TestCertificate;
beforeAll(() => {
    ca = new TestCertificateAuthority();
    localhost = ca.issue({ names: ["DNS:localhost", "IP:127.0.0.1"] });
    sso = ca.issue({ names: ["DNS:sso.example.com"] });
});
afterAll(() => ca.dispose());

describe("tlsMaterialProblems", () => {
    test("a certificate with its own key, covering the host, passes", () => {
        expect(tlsMaterialProblems(localhost, "localhost")).toEqual([]);
        expect(tlsMaterialProblems(localhost, "127.0.0.1")).toEqual([]);
        expect(tlsMaterialProblems(sso, "sso.example.com")).toEqual([]);
    });

    test("the wrong key, the wrong host, and things that are not PEM are named", () => {
        expect(tlsMaterialProblems({ certificatePem: localhost.certificatePem, keyPem: sso.keyPem }, "localhost")).toEqual(["tlsKey: does not belong to the first certificate of tlsCertificate"]);
        expect(tlsMaterialProblems(sso, "localhost")).toEqual([expect.stringMatching(/^tlsCertificate: does not cover localhost, the host of the public URL \(hostname\); it names DNS:sso\.example\.com$/)]);
        expect(tlsMaterialProblems({ certificatePem: "not a certificate", keyPem: sso.keyPem }, "sso.example.com")).toEqual([expect.stringMatching(/^tlsCertificate: is not a PEM certificate/)]);
        expect(tlsMaterialProblems({ certificatePem: sso.certificatePem, keyPem: "not a key" }, "sso.example.com")).toEqual([expect.stringMatching(/^tlsKey: is not an unencrypted PEM private key/)]);
    });

    test("no problem message contains the key", () => {
        const messages = tlsMaterialProblems({ certificatePem: localhost.certificatePem, keyPem: sso.keyPem }, "nowhere.example");
        expect(messages).toHaveLength(2);
        for (const message of messages) expect(message).not.toContain("PRIVATE KEY");
    });

    test("warnings before expiry and after it", () => {
        const day = 86_400_000;
        expect(certificateWarnings(sso.certificatePem, new Date())).toEqual([]);
        expect(certificateWarnings(sso.certificatePem, new Date(Date.now() + 25 * day))).toEqual([expect.stringMatching(/^tlsCertificate expires on .* \(in [0-9] days\)/)]);
        expect(certificateWarnings(sso.certificatePem, new Date(Date.now() + 31 * day))).toEqual([expect.stringMatching(/^tlsCertificate expired on /)]);
    });

    test("HAProxy's file is the chain, then the key", () => {
        const pem = haproxyPem(sso);
        expect(pem.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
        expect(pem.indexOf("PRIVATE KEY")).toBeGreaterThan(pem.lastIndexOf("END CERTIFICATE"));
    });
});

describe("TLS settings", () => {
    test("with TLS the public URL defaults to https on the load balancer port", () => {
        const settings = resolveSettings({ tlsCertificate: localhost.certificatePem, tlsKey: localhost.keyPem });
        expect(settings.hostname).toBe("https://localhost:8000");
        expect(settings.tls).toEqual({ certificatePem: localhost.certificatePem, keyPem: localhost.keyPem });
        expect(resolveSettings({}).tls).toBeUndefined();
    });

    test("bad TLS input: one error per problem, naming the setting and never showing a value", () => {
        const cases: [Record<string, unknown>, RegExp][] = [
            [{ tlsCertificate: localhost.certificatePem }, /^tlsCertificate \(secret, \d+ characters, not shown\): set without tlsKey; TLS needs both/],
            [{ tlsKey: localhost.keyPem }, /^tlsKey \(secret, \d+ characters, not shown\): set without tlsCertificate/],
            [{ tlsCertificate: sso.certificatePem, tlsKey: sso.keyPem }, /^tlsCertificate: does not cover localhost, the host of the public URL \(hostname\).*\(values not shown\)$/],
            [{ tlsCertificate: sso.certificatePem, tlsKey: sso.keyPem, hostname: "http://sso.example.com" }, /^hostname = "http:\/\/sso.example.com": must be an https:\/\/ URL while the load balancer serves TLS/],
            [{ tlsCertificate: sso.certificatePem, tlsKey: localhost.keyPem, hostname: "https://sso.example.com" }, /^tlsKey: does not belong to the first certificate of tlsCertificate/],
            [{ httpRedirectPort: 8090 }, /^httpRedirectPort = 8090: needs tlsCertificate and tlsKey/],
            [{ tlsCertificate: localhost.certificatePem, tlsKey: localhost.keyPem, httpRedirectPort: 8000 }, /^httpRedirectPort = 8000: is also the loadBalancerPort/],
            [{ tlsCertificate: localhost.certificatePem, tlsKey: localhost.keyPem, httpRedirectPort: 8081 }, /^httpRedirectPort = 8081: collides with the node ports 8080-8081/],
            [{ adminThroughLoadBalancer: true, bindAddress: "0.0.0.0", hostname: "http://sso.example.com:8000" }, /^adminThroughLoadBalancer = true: with bindAddress 0.0.0.0 the admin console, the admin API and admin passwords would cross the network in plain HTTP/],
        ];
        for (const [args, message] of cases) {
            let problems: string[] = [];
            try {
                resolveSettings(args);
            } catch (error) {
                problems = (error as { problems: string[] }).problems;
            }
            expect({ args: Object.keys(args), problems }).toEqual({ args: Object.keys(args), problems: [expect.stringMatching(message)] });
            for (const problem of problems) expect(problem).not.toMatch(/BEGIN|PRIVATE KEY/);
        }
    });

    test("admin through the load balancer is fine on loopback, and with TLS anywhere", () => {
        expect(resolveSettings({ adminThroughLoadBalancer: true }).adminThroughLoadBalancer).toBe(true);
        expect(resolveSettings({ adminThroughLoadBalancer: true, bindAddress: "0.0.0.0", hostname: "https://sso.example.com:8000", tlsCertificate: sso.certificatePem, tlsKey: sso.keyPem }).adminThroughLoadBalancer).toBe(true);
    });
});

describe("exposureWarnings", () => {
    const now = new Date();
    test("plain HTTP on an address other machines reach is a warning; loopback and TLS are not", () => {
        expect(exposureWarnings(resolveSettings({}), now)).toEqual([]);
        expect(exposureWarnings(resolveSettings({ bindAddress: "127.0.0.2" }), now)).toEqual([]);
        expect(exposureWarnings(resolveSettings({ bindAddress: "0.0.0.0", hostname: "http://sso.example.com:8000" }), now)).toEqual([
            expect.stringMatching(/^keycloak-cluster: the load balancer serves plain HTTP on 0\.0\.0\.0:8000, reachable from other machines: .*Set tlsCertificate and tlsKey/),
        ]);
        expect(exposureWarnings(resolveSettings({ bindAddress: "0.0.0.0", hostname: "https://sso.example.com:8000", tlsCertificate: sso.certificatePem, tlsKey: sso.keyPem }), now)).toEqual([]);
    });

    test("a published database on such an address, and a certificate about to expire, are warnings too", () => {
        expect(exposureWarnings(resolveSettings({ bindAddress: "192.168.7.2", databaseHostPort: 5432 }), now)).toEqual([expect.stringMatching(/plain HTTP on 192\.168\.7\.2/), expect.stringMatching(/PostgreSQL is published on 192\.168\.7\.2:5432/)]);
        const settings = resolveSettings({ tlsCertificate: localhost.certificatePem, tlsKey: localhost.keyPem });
        expect(exposureWarnings(settings, new Date(Date.now() + 25 * 86_400_000))).toEqual([expect.stringMatching(/^keycloak-cluster: tlsCertificate expires on /)]);
    });
});
