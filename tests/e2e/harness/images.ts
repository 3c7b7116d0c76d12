/** The stack config the e2e runs use unless told otherwise: the locally built images. */
export const E2E_IMAGES = {
    keycloakImage: "keycloak-cluster-e2e/keycloak:26.7.3",
    postgresImage: "keycloak-cluster-e2e/postgres:17",
    loadBalancerImage: "keycloak-cluster-e2e/haproxy:3.0",
} as const;
