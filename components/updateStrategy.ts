/**
 * How a change of the Keycloak image reaches the nodes: one node at a time (rolling), or every old node
 * stopped before the first new one starts (recreate). Keycloak supports old and new nodes side by side only
 * within a patch series (its "update compatibility" guide: a rolling update of a minor or major version is
 * not supported, the new version migrates the database schema when it starts), and without a preview
 * feature only from 26.6.0 ("Zero-downtime patch releases enabled by default", changes-26_6_0.adoc; 26.2 to
 * 26.5 needed `rolling-updates:v2`). So by default a patch change from 26.6 on rolls, anything else recreates.
 *
 * The recreate is built from the engine's own rules: the nodes carry a label computed from a
 * `random.RandomId` whose keepers hold the update stream (below) and that is replaced delete-before-replace.
 * When the stream changes, Pulumi deletes every resource whose inputs depend on it and would be replaced
 * by that — every node — before it replaces the RandomId, and only then creates the new nodes
 * (pulumi/pulumi pkg/resource/deploy/step_generator.go, calculateDependentReplacements). Within a stream the
 * RandomId stays, and the image change replaces the nodes in their rolling order (nodePredecessors).
 */
import { parseImageReference } from "./imageReference";

export const UPDATE_STRATEGIES = ["auto", "recreate", "rolling"] as const;
export type UpdateStrategy = (typeof UPDATE_STRATEGIES)[number];

/** Label that shows a node's update stream (`docker ps --format '{{.Label "keycloak-cluster.update-stream"}}'`). */
export const UPDATE_STREAM_LABEL = "keycloak-cluster.update-stream";

export interface KeycloakVersion {
    major: number;
    minor: number;
    patch: number;
}

/**
 * The Keycloak version an image tag names: `26.7.3`, `26.7`, `26.7.3-0` (a rebuild of 26.7.3), or
 * undefined for anything else (`latest`, `nightly`, a digest only, a custom tag). Keycloak's images are
 * tagged `<major>.<minor>.<patch>` and `<major>.<minor>` (quay.io/keycloak/keycloak).
 */
export function keycloakVersionOfImage(image: string): KeycloakVersion | undefined {
    const reference = parseImageReference(image);
    if ("problem" in reference || reference.tag === undefined) return undefined;
    const match = /^(\d+)\.(\d+)(?:\.(\d+))?(?:-\d+)?$/.exec(reference.tag);
    if (!match) return undefined;
    return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3] ?? 0) };
}

/** First version whose patch releases roll without a preview feature. */
export const FIRST_ROLLING_PATCH_VERSION: KeycloakVersion = { major: 26, minor: 6, patch: 0 };

function rollsPatches(version: KeycloakVersion): boolean {
    const { major, minor } = FIRST_ROLLING_PATCH_VERSION;
    return version.major > major || (version.major === major && version.minor >= minor);
}

/**
 * The value whose change recreates every node instead of rolling them:
 * - `auto`: `<major>.<minor>` of the image tag from 26.6 on, so patch versions roll; an older version, or an
 *   image whose tag names no version, is its own stream (any change of it recreates: nothing says old and new
 *   nodes can share a cluster).
 * - `recreate`: the image reference itself (every image change recreates).
 * - `rolling`: none, and so no stream resource and no label (every image change rolls; for images the
 *   operator knows to be compatible). Switching to or from `rolling` adds or removes the label, which replaces
 *   the nodes in their rolling order, never all at once: the stream resource is created or deleted, not replaced.
 */
export function updateStream(strategy: UpdateStrategy, keycloakImage: string): string | undefined {
    switch (strategy) {
        case "rolling":
            return undefined;
        case "recreate":
            return keycloakImage;
        case "auto": {
            const version = keycloakVersionOfImage(keycloakImage);
            return version && rollsPatches(version) ? `${version.major}.${version.minor}` : keycloakImage;
        }
    }
}
