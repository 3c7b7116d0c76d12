/**
 * Docker healthchecks that work on the official images, which have bash but neither curl nor wget:
 * the probe speaks HTTP over bash's /dev/tcp and passes only on a 200 status line.
 */

/** Healthcheck test (exec form) that GETs `path` on 127.0.0.1:`port` inside the container. */
export function httpProbeTest(port: number, path: string): string[] {
    const request = `GET ${path} HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n`;
    const script = `exec 3<>/dev/tcp/127.0.0.1/${port} && printf '${request}' >&3 && read -r status <&3 && [[ $status == *' 200 '* ]]`;
    return ["CMD", "bash", "-c", script];
}
