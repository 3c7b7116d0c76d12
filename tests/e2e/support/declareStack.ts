/** Declares the real program under jest with a fresh module registry per declaration. */
import type { Declaration, ProviderFake } from "../../support/declaration";
import { declareProgram, StackConfig } from "../harness/program";

export async function declareStack(config: StackConfig, fake: ProviderFake, prior?: Declaration): Promise<Declaration> {
    let declaration: Declaration | undefined;
    await jest.isolateModulesAsync(async () => {
        declaration = await declareProgram(config, fake, prior);
    });
    return declaration!;
}
