/** The stack config the e2e runs use unless told otherwise: the locally built images. */
export const E2E_IMAGES = {
    keycloakImage: "keycloak-cluster-e2e/keycloak:26.7.3",
    postgresImage: "keycloak-cluster-e2e/postgres:17",
    loadBalancerImage: "keycloak-cluster-e2e/haproxy:3.0",
} as const;

/** An older minor version, for the upgrade test (built by `KEYCLOAK_VERSION=26.5.6 bash tests/e2e/images/build.sh`). */
export const E2E_PREVIOUS_MINOR_KEYCLOAK_IMAGE = "keycloak-cluster-e2e/keycloak:26.5.6";
