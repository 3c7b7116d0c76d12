import { keycloakVersionOfImage, updateStream } from "../../components/updateStrategy";

describe("keycloakVersionOfImage", () => {
    test("reads major.minor.patch from Keycloak's tags", () => {
        expect(keycloakVersionOfImage("quay.io/keycloak/keycloak:26.7.3")).toEqual({ major: 26, minor: 7, patch: 3 });
        expect(keycloakVersionOfImage("quay.io/keycloak/keycloak:26.7")).toEqual({ major: 26, minor: 7, patch: 0 });
        expect(keycloakVersionOfImage("registry.example.com:5000/kc:26.5.6-1")).toEqual({ major: 26, minor: 5, patch: 6 });
    });

    test("a tag that names no version, or no tag at all, gives none", () => {
        for (const image of ["quay.io/keycloak/keycloak", "quay.io/keycloak/keycloak:latest", "quay.io/keycloak/keycloak:nightly", "kc:26.7.3-custom", "kc@sha256:" + "a".repeat(64), "kc:v26.7.3"]) {
            expect({ image, version: keycloakVersionOfImage(image) }).toEqual({ image, version: undefined });
        }
    });
});

describe("updateStream: what a change must alter to stop every node first", () => {
    const auto = (image: string) => updateStream("auto", image);

    test("auto: patch versions share a stream, minor and major versions do not", () => {
        expect(auto("quay.io/keycloak/keycloak:26.7.2")).toBe(auto("quay.io/keycloak/keycloak:26.7.3"));
        expect(auto("quay.io/keycloak/keycloak:26.7")).toBe(auto("quay.io/keycloak/keycloak:26.7.3"));
        expect(auto("quay.io/keycloak/keycloak:26.5.6")).not.toBe(auto("quay.io/keycloak/keycloak:26.7.3"));
        expect(auto("quay.io/keycloak/keycloak:26.7.3")).not.toBe(auto("quay.io/keycloak/keycloak:27.0.0"));
    });

    test("auto: before 26.6 (patch rolling was a preview feature) every image change recreates", () => {
        expect(auto("quay.io/keycloak/keycloak:26.5.5")).not.toBe(auto("quay.io/keycloak/keycloak:26.5.6"));
        expect(auto("quay.io/keycloak/keycloak:26.6.0")).toBe(auto("quay.io/keycloak/keycloak:26.6.1"));
        expect(auto("quay.io/keycloak/keycloak:27.0.0")).toBe(auto("quay.io/keycloak/keycloak:27.0.2"));
    });

    test("auto: an image without a version tag is its own stream, so any change to or from it recreates", () => {
        expect(auto("kc:latest")).not.toBe(auto("kc:26.7.3"));
        expect(auto("kc:custom-a")).not.toBe(auto("kc:custom-b"));
        expect(auto("kc:custom-a")).toBe(auto("kc:custom-a"));
    });

    test("recreate follows every image change; rolling has no stream at all", () => {
        expect(updateStream("recreate", "kc:26.7.2")).not.toBe(updateStream("recreate", "kc:26.7.3"));
        expect(updateStream("rolling", "kc:26.7.3")).toBeUndefined();
    });
});
