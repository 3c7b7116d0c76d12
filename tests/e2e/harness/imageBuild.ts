/**
 * docker.Image's build as pulumi-docker runs it (provider/image.go runImageBuild → ImageBuild) for the
 * classic builder: Version "1", the tag imageName, the build args, the Dockerfile relative to the context,
 * the platform; Remove/ForceRemove are never set, so the client sends rm=0 and the stopped intermediate
 * containers of RUN steps stay behind, as they do under the real provider. Returns the local image id.
 */
import type Docker from "dockerode";
import { relative } from "node:path";
import { filesUnder } from "../../support/imageCheck";

export interface ImageBuildInputs {
    imageName: string;
    skipPush?: boolean;
    build: { context: string; dockerfile: string; args?: Record<string, string>; builderVersion?: string; platform?: string };
}

export async function buildImageV1(docker: Docker, inputs: ImageBuildInputs, log: (message: string) => void = () => undefined): Promise<{ id: string; seconds: number }> {
    const started = Date.now();
    const { context, dockerfile } = inputs.build;
    log(`build image ${inputs.imageName} (classic builder)`);
    const stream = await docker.buildImage(
        { context, src: filesUnder(context).map((file) => relative(context, file)) },
        {
            t: inputs.imageName,
            dockerfile: relative(context, dockerfile),
            buildargs: inputs.build.args ?? {},
            version: "1",
            rm: false,
            platform: inputs.build.platform,
        } as Docker.ImageBuildOptions,
    );
    const output: { stream?: string; error?: string; errorDetail?: { message?: string } }[] = await new Promise((resolve, reject) =>
        docker.modem.followProgress(stream, (error: Error | null, result: unknown[]) => (error ? reject(error) : resolve(result as never))),
    );
    const failed = output.find((line) => line.error || line.errorDetail);
    if (failed) {
        const transcript = output.map((line) => line.stream ?? "").join("").split("\n").slice(-30).join("\n");
        throw new Error(`building ${inputs.imageName} failed: ${failed.error ?? failed.errorDetail?.message}\n${transcript}`);
    }
    const id = (await docker.getImage(inputs.imageName).inspect()).Id;
    return { id, seconds: (Date.now() - started) / 1000 };
}
