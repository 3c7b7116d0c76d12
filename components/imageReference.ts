/**
 * Docker image references, checked with the grammar Docker itself parses them with
 * (github.com/distribution/reference, regexp.go and reference.go), so a reference Docker would refuse is
 * refused here, with the setting's name, before any resource is declared.
 */

const alphaNumeric = "[a-z0-9]+";
// distribution/reference: separator = `(?:[._]|__|[-]+)`.
const separator = "(?:[._]|__|[-]+)";
const pathComponent = `${alphaNumeric}(?:${separator}${alphaNumeric})*`;
const domainNameComponent = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const ipv6Address = "\\[(?:[a-fA-F0-9:]+)\\]";
const host = `(?:${domainNameComponent}(?:\\.${domainNameComponent})*|${ipv6Address})`;
const domainAndPort = `${host}(?::[0-9]+)?`;
const tag = "[\\w][\\w.-]{0,127}";
const digest = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const remoteName = `${pathComponent}(?:/${pathComponent})*`;
const name = `(?:${domainAndPort}/)?${remoteName}`;

const referencePattern = new RegExp(`^(${name})(?::(${tag}))?(?:@(${digest}))?$`);

/** distribution/reference: NameTotalLengthMax. */
export const IMAGE_NAME_MAX_LENGTH = 255;

export interface ImageReference {
    /** Repository name with its registry, if any (`quay.io/keycloak/keycloak`). */
    name: string;
    tag?: string;
    digest?: string;
}

/** Parses a reference as `docker pull` would accept it, or returns why it cannot. */
export function parseImageReference(text: string): ImageReference | { problem: string } {
    if (text === "") return { problem: "is empty" };
    const match = referencePattern.exec(text);
    if (!match) {
        // reference.go reports the uppercase case separately: the repository path must be lowercase.
        if (referencePattern.test(text.toLowerCase())) return { problem: "has uppercase letters in its repository name (Docker requires lowercase)" };
        return { problem: "is not a valid Docker image reference" };
    }
    if (match[1].length > IMAGE_NAME_MAX_LENGTH) return { problem: `has a repository name longer than ${IMAGE_NAME_MAX_LENGTH} characters` };
    return { name: match[1], tag: match[2], digest: match[3] };
}
