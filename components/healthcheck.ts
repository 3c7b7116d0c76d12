/**
 * Docker healthchecks that work on the official images, which have bash but neither curl nor wget:
 * the probe speaks HTTP over bash's /dev/tcp and passes only on a 200 status line.
 */
import type * as docker from "@pulumi/docker";

/** Healthcheck test (exec form) that GETs `path` on 127.0.0.1:`port` inside the container. */
export function httpProbeTest(port: number, path: string): string[] {
    const request = `GET ${path} HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n`;
    const script = `exec 3<>/dev/tcp/127.0.0.1/${port} && printf '${request}' >&3 && read -r status <&3 && [[ $status == *' 200 '* ]]`;
    return ["CMD", "bash", "-c", script];
}

/**
 * A whole number of seconds as Go's time.Duration.String() prints it ("5s", "3m0s", "1h0m0s"). The Docker
 * provider reads healthcheck durations back in that form (kreuzwerker terraform-provider-docker,
 * resourceDockerContainerRead: time.Duration(...).String()), so any other spelling of the same duration
 * ("180s") shows as a change on every preview after the first create.
 */
export function goDuration(seconds: number): string {
    if (!Number.isInteger(seconds) || seconds < 0) throw new Error(`goDuration takes whole non-negative seconds, got ${seconds}`);
    const hours = Math.floor(seconds / 3600);
    const minutes = Math.floor((seconds % 3600) / 60);
    const rest = seconds % 60;
    if (hours > 0) return `${hours}h${minutes}m${rest}s`;
    if (minutes > 0) return `${minutes}m${rest}s`;
    return `${rest}s`;
}

export interface HealthcheckTiming {
    intervalSeconds: number;
    timeoutSeconds: number;
    retries: number;
    /** Failures during this period do not count; sized from the startup timeout, so a slow first start is not "unhealthy". */
    startPeriodSeconds: number;
}

/** The provider's healthcheck input, durations spelled as the provider reads them back. */
export function containerHealthcheck(tests: string[], timing: HealthcheckTiming): docker.types.input.ContainerHealthcheck {
    return {
        tests,
        interval: goDuration(timing.intervalSeconds),
        timeout: goDuration(timing.timeoutSeconds),
        retries: timing.retries,
        startPeriod: goDuration(timing.startPeriodSeconds),
    };
}
