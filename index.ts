import * as pulumi from "@pulumi/pulumi";
import { ClusterConfigError, exposureWarnings, plainTextSecretWarnings, readStackConfig, resolveSettings } from "./components/config";
import { KeycloakCluster } from "./components/keycloakCluster";

// The engine tells the program which config values were set with --secret; the SDK marks this @internal.
const isConfigSecret = (pulumi.runtime as unknown as { isConfigSecret(fullKey: string): boolean }).isConfigSecret;

function readArgs() {
    try {
        const allConfig = pulumi.runtime.allConfig();
        const args = readStackConfig(allConfig);
        const settings = resolveSettings(args);
        for (const warning of [...plainTextSecretWarnings(allConfig, isConfigSecret), ...exposureWarnings(settings, new Date())]) void pulumi.log.warn(warning);
        return { args, clusterName: settings.clusterName };
    } catch (error) {
        // RunError prints the message alone, without a stack trace.
        if (error instanceof ClusterConfigError) throw new pulumi.RunError(error.message);
        throw error;
    }
}

const { args, clusterName } = readArgs();
const cluster = new KeycloakCluster(clusterName, args);

export const loadBalancerUrl = cluster.loadBalancerUrl;
export const publicUrl = cluster.publicUrl;
export const nodeUrls = cluster.nodeUrls;
export const adminConsoleUrl = cluster.adminConsoleUrl;
export const adminUsername = cluster.adminUsername;
export const adminPassword = cluster.adminPassword;
export const databasePassword = cluster.databasePassword;
export const networkName = cluster.networkName;
export const nodeContainerNames = cluster.nodeContainerNames;
export const postgresContainerName = cluster.postgresContainerName;
export const loadBalancerContainerName = cluster.loadBalancerContainerName;
export const databaseVolumeName = cluster.databaseVolumeName;
