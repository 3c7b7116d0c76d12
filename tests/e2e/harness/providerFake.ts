/** Provider behaviour for real runs: real random passwords, image ids of the locally present images. */
import type Docker from "dockerode";
import { randomInt } from "node:crypto";
import type { ProviderFake } from "../../support/declaration";
import { engineClient, isNotFound } from "./docker";
import { buildImageV1, ImageBuildInputs } from "./imageBuild";

const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER = "abcdefghijklmnopqrstuvwxyz";
const NUMERIC = "0123456789";
/** random.RandomPassword's default special characters. */
const SPECIAL = "!@#$%&*()-_=+[]{}<>:?";

export function generatePassword(inputs: Record<string, unknown>): string {
    const supported = new Set(["length", "special", "upper", "lower", "numeric"]);
    const unsupported = Object.keys(inputs).filter((key) => !supported.has(key));
    if (unsupported.length > 0) throw new Error(`RandomPassword inputs not supported by the e2e provider fake: ${unsupported.join(", ")}`);
    const length = Number(inputs.length);
    if (!Number.isInteger(length) || length < 1) throw new Error(`RandomPassword length must be a positive whole number, got ${String(inputs.length)}`);
    const alphabet =
        (inputs.upper === false ? "" : UPPER) + (inputs.lower === false ? "" : LOWER) + (inputs.numeric === false ? "" : NUMERIC) + (inputs.special === false ? "" : SPECIAL);
    if (alphabet.length === 0) throw new Error("RandomPassword: every character class is disabled");
    return Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join("");
}

export async function localImageId(docker: Docker, imageName: string): Promise<string> {
    try {
        return (await docker.getImage(imageName).inspect()).Id;
    } catch (error) {
        if (isNotFound(error)) {
            throw new Error(`Image ${imageName} is not present on the local Docker engine (the e2e harness never pulls): run bash tests/e2e/images/build.sh`);
        }
        throw error;
    }
}

/** Seconds each docker.Image build took, by image name (for the bench and the suite's report). */
export const imageBuildSeconds = new Map<string, number>();

export function localProviderFake(docker: Docker, log: (message: string) => void = () => undefined): ProviderFake {
    return {
        password: (_name, inputs) => generatePassword(inputs),
        imageId: (imageName, engine) => localImageId(engineClient(docker, engine), imageName),
        async buildImage(inputs, engine) {
            const built = await buildImageV1(engineClient(docker, engine), inputs as unknown as ImageBuildInputs, log);
            imageBuildSeconds.set(String(inputs.imageName), built.seconds);
            return built.id;
        },
    };
}
