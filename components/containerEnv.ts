/** What every container of the cluster shares: how its environment is written, and which changes replace it. */

/** `KEY=value` list in a stable order, as Docker takes a container's environment. */
export function envList(env: Record<string, string>): string[] {
    return Object.keys(env)
        .sort()
        .map((key) => `${key}=${env[key]}`);
}

/**
 * Inputs the Docker provider updates in place (not ForceNew) that only a new container honours: a changed
 * memory limit is applied by `docker update` but the JVM heap stays sized from the old one, and a changed
 * healthcheck is written to the state but never to the container (kreuzwerker terraform-provider-docker,
 * resourceDockerContainerUpdate: ContainerUpdate covers restart policy and resources only). Listed in
 * `replaceOnChanges`, so they replace the container like any other change.
 */
export const RESTART_ONLY_INPUTS = ["memory", "memorySwap", "healthcheck"];
