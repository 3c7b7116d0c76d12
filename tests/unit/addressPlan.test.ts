import { formatIPv4, nodePredecessors, nodeSlotCapacity, parseIPv4, parseSubnet, planCluster, planNode } from "../../components/addressPlan";
import { resolveSettings } from "../../components/config";

describe("IPv4 parsing", () => {
    test.each([
        ["10.0.0.1", 0x0a000001],
        ["255.255.255.255", 0xffffffff],
        ["0.0.0.0", 0],
    ])("%s", (text, value) => {
        expect(parseIPv4(text)).toBe(value);
        expect(formatIPv4(value)).toBe(text);
    });

    test.each(["10.0.0", "10.0.0.256", "010.0.0.1", "a.b.c.d", "10.0.0.1 "])("rejects %s", (text) => {
        expect(parseIPv4(text)).toBeUndefined();
    });

    test("subnets: prefix range and host bits", () => {
        expect(parseSubnet("10.231.0.0/24")).toEqual({ cidr: "10.231.0.0/24", base: 0x0ae70000, prefix: 24 });
        expect(parseSubnet("172.16.0.0/16")?.prefix).toBe(16);
        expect(parseSubnet("10.0.0.16/28")?.prefix).toBe(28);
        expect(parseSubnet("10.0.0.0/15")).toBeUndefined();
        expect(parseSubnet("10.0.0.8/28")).toBeUndefined();
        expect(nodeSlotCapacity(parseSubnet("10.0.0.0/28")!)).toBe(5);
        expect(nodeSlotCapacity(parseSubnet("10.0.0.0/24")!)).toBe(245);
    });
});

describe("planCluster", () => {
    const settings = resolveSettings({ replicas: 4, subnet: "10.50.7.0/24", basePort: 9100, clusterName: "sso" });
    const plan = planCluster(settings);

    test("fixed addresses for gateway, database and load balancer; nodes from .10", () => {
        expect(plan.gateway).toBe("10.50.7.1");
        expect(plan.postgres.address).toBe("10.50.7.2");
        expect(plan.loadBalancer.address).toBe("10.50.7.3");
        expect(plan.nodes.map((node) => node.address)).toEqual(["10.50.7.10", "10.50.7.11", "10.50.7.12", "10.50.7.13"]);
    });

    test("node i listens on basePort + i - 1 and is named after its number", () => {
        expect(plan.nodes.map((node) => [node.containerName, node.hostPort, node.url])).toEqual([
            ["sso-keycloak-1", 9100, "http://localhost:9100"],
            ["sso-keycloak-2", 9101, "http://localhost:9101"],
            ["sso-keycloak-3", 9102, "http://localhost:9102"],
            ["sso-keycloak-4", 9103, "http://localhost:9103"],
        ]);
    });

    test("a node's plan does not depend on how many nodes there are", () => {
        for (const replicas of [1, 2, 7]) {
            expect(planNode(resolveSettings({ replicas: Math.max(replicas, 3), subnet: "10.50.7.0/24", basePort: 9100, clusterName: "sso" }), 3)).toEqual(plan.nodes[2]);
        }
        const { tls: _noTls, externalDatabase: _noExternalDatabase, ...args } = settings;
        expect(planCluster(resolveSettings({ ...args, replicas: 1 })).loadBalancer).toEqual(plan.loadBalancer);
    });

    test("load balancer slots cover the most nodes the cluster can have", () => {
        expect(plan.loadBalancer.serverSlots).toBe(32);
        expect(planCluster(resolveSettings({ subnet: "10.9.0.16/28" })).loadBalancer.serverSlots).toBe(5);
    });

    test("every node address lies inside the subnet and below its broadcast address", () => {
        const narrow = planCluster(resolveSettings({ subnet: "10.9.0.16/28", replicas: 5 }));
        const addresses = narrow.nodes.map((node) => parseIPv4(node.address)!);
        expect(Math.min(...addresses)).toBe(parseIPv4("10.9.0.26"));
        expect(Math.max(...addresses)).toBe(parseIPv4("10.9.0.30"));
    });
});

describe("nodePredecessors", () => {
    test("node 1 goes first; with maxUnavailable 1 every node waits for the one before it", () => {
        expect([1, 2, 3, 4].map((index) => nodePredecessors(index, 1))).toEqual([[], [1], [1, 2], [1, 3]]);
    });

    test("with maxUnavailable k, node i waits for node i - k (and node 1): at most k are replaced at once", () => {
        expect([1, 2, 3, 4, 5].map((index) => nodePredecessors(index, 2))).toEqual([[], [1], [1], [1, 2], [1, 3]]);
        expect([2, 3, 4].map((index) => nodePredecessors(index, 32))).toEqual([[1], [1], [1]]);
    });
});
