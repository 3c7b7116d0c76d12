/** Labels on every Docker object, so `docker ps --filter label=...` finds a cluster's parts. */
export const CLUSTER_LABEL = "keycloak-cluster.cluster";
export const ROLE_LABEL = "keycloak-cluster.role";

export function clusterLabels(clusterName: string, role: string): { label: string; value: string }[] {
    return [
        { label: CLUSTER_LABEL, value: clusterName },
        { label: ROLE_LABEL, value: role },
    ];
}
