/**
 * The Keycloak image the nodes run. By default the program builds `<clusterName>-keycloak` from
 * `keycloakImage` with Keycloak's build-time options baked in (`kc.sh build`), and the nodes start with
 * `start --optimized`: no Quarkus re-augmentation on every container start. The same options go into
 * every node's environment (keycloakNode.ts), from the one function below, so the two cannot drift — a
 * drift would make Keycloak refuse `--optimized` or silently rebuild itself.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { ClusterSettings } from "./config";

/** Build context of the optimized image (holds its Dockerfile). */
export const KEYCLOAK_IMAGE_CONTEXT = join(__dirname, "keycloak-image");

/**
 * Keycloak's build-time options this cluster needs (`kc.sh build --help` of 26.7.3 lists db, health-enabled
 * and metrics-enabled among them; the cache options are runtime options), as environment variables.
 */
export function keycloakBuildOptions(): Record<string, string> {
    return {
        KC_DB: "postgres",
        KC_HEALTH_ENABLED: "true",
        KC_METRICS_ENABLED: "true",
    };
}

/** How a node starts: optimized when the image was built with {@link keycloakBuildOptions}. */
export function keycloakCommand(settings: ClusterSettings): string[] {
    return settings.keycloakBuild === "auto" ? ["start"] : ["start", "--optimized"];
}

/** Build arguments of the optimized image: the base image and the build-time options. */
export function keycloakBuildArgs(settings: ClusterSettings): Record<string, string> {
    return { KEYCLOAK_IMAGE: settings.keycloakImage, ...keycloakBuildOptions() };
}

/**
 * Name of the optimized image: `<clusterName>-keycloak:<hash of the base image's id>`. The build args and
 * the build context (Dockerfile) are inputs of the image already (the provider's Check hashes the context),
 * so a change to either rebuilds it; the base image's id is not, and a base image moved under the same tag
 * must rebuild it too. The nodes run the build's repoDigest, so they follow every rebuild.
 */
export function optimizedImageName(settings: ClusterSettings, baseImageId: string): string {
    return `${settings.clusterName}-keycloak:${createHash("sha256").update(baseImageId).digest("hex").slice(0, 16)}`;
}

/**
 * The optimized image, built locally with the classic builder (no BuildKit needed on the engine) and never
 * pushed: it exists only on the engine that runs the nodes.
 */
export function optimizedImageArgs(settings: ClusterSettings, baseImageId: pulumi.Input<string>): docker.ImageArgs {
    return {
        imageName: pulumi.output(baseImageId).apply((id) => optimizedImageName(settings, id)),
        build: {
            context: KEYCLOAK_IMAGE_CONTEXT,
            dockerfile: join(KEYCLOAK_IMAGE_CONTEXT, "Dockerfile"),
            args: keycloakBuildArgs(settings),
            builderVersion: "BuilderV1",
        },
        skipPush: true,
    };
}
