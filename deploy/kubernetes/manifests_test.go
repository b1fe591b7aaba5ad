// Package kubernetes holds the manifests an agency applies to run a Puente node and its shards
// on Kubernetes, and their test: every manifest decodes strictly (no unknown or misspelt field)
// into the official k8s.io/api types, the workloads meet the deployment's rules, and the
// configuration they mount parses with the node's own parser. The node binary does not link
// this package.
package kubernetes

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/puente-id/puente/home"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"
)

// manifests are the decoded objects of every manifest, by kind.
type manifests struct {
	namespaces   []*corev1.Namespace
	configMaps   []*corev1.ConfigMap
	services     []*corev1.Service
	pvcs         []*corev1.PersistentVolumeClaim
	deployments  []*appsv1.Deployment
	statefulSets []*appsv1.StatefulSet
	pdbs         []*policyv1.PodDisruptionBudget
	netpols      []*networkingv1.NetworkPolicy
}

// decode strictly decodes one YAML document into the type of its apiVersion and kind.
func (m *manifests) decode(doc []byte) error {
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := yaml.Unmarshal(doc, &head); err != nil {
		return err
	}
	strict := func(v any) error { return yaml.UnmarshalStrict(doc, v) }
	var err error
	switch head.APIVersion + " " + head.Kind {
	case "v1 Namespace":
		o := &corev1.Namespace{}
		err = strict(o)
		m.namespaces = append(m.namespaces, o)
	case "v1 ConfigMap":
		o := &corev1.ConfigMap{}
		err = strict(o)
		m.configMaps = append(m.configMaps, o)
	case "v1 Service":
		o := &corev1.Service{}
		err = strict(o)
		m.services = append(m.services, o)
	case "v1 PersistentVolumeClaim":
		o := &corev1.PersistentVolumeClaim{}
		err = strict(o)
		m.pvcs = append(m.pvcs, o)
	case "apps/v1 Deployment":
		o := &appsv1.Deployment{}
		err = strict(o)
		m.deployments = append(m.deployments, o)
	case "apps/v1 StatefulSet":
		o := &appsv1.StatefulSet{}
		err = strict(o)
		m.statefulSets = append(m.statefulSets, o)
	case "policy/v1 PodDisruptionBudget":
		o := &policyv1.PodDisruptionBudget{}
		err = strict(o)
		m.pdbs = append(m.pdbs, o)
	case "networking.k8s.io/v1 NetworkPolicy":
		o := &networkingv1.NetworkPolicy{}
		err = strict(o)
		m.netpols = append(m.netpols, o)
	default:
		return fmt.Errorf("kind %q of %q: not one the deployment uses (add it to the test)", head.Kind, head.APIVersion)
	}
	return err
}

var docSeparator = regexp.MustCompile(`(?m)^---\s*$`)

func load(t *testing.T) *manifests {
	t.Helper()
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	m := &manifests{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range docSeparator.Split(string(b), -1) {
			if len(bytes.TrimSpace(stripComments([]byte(doc)))) == 0 {
				continue
			}
			if err := m.decode([]byte(doc)); err != nil {
				t.Errorf("%s, document %d: %v", f, i+1, err)
			}
		}
	}
	return m
}

func stripComments(b []byte) []byte {
	var out []byte
	for _, l := range bytes.Split(b, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimSpace(l), []byte("#")) {
			out = append(out, l...)
		}
	}
	return out
}

func matches(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// checkPod checks a workload's pod template: non-root, read-only root file system, no
// privilege escalation or capability, requests and a memory limit, gRPC probes on a declared
// port, every mount backed by a volume.
func checkPod(t *testing.T, name string, sel map[string]string, tpl corev1.PodTemplateSpec, claims ...corev1.PersistentVolumeClaim) {
	t.Helper()
	if !matches(sel, tpl.Labels) {
		t.Errorf("%s: selector %v does not match the pod labels %v", name, sel, tpl.Labels)
	}
	ps := tpl.Spec.SecurityContext
	if ps == nil || ps.RunAsNonRoot == nil || !*ps.RunAsNonRoot || ps.RunAsUser == nil || *ps.RunAsUser == 0 ||
		ps.SeccompProfile == nil || ps.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: pod must run as a non-root user with the RuntimeDefault seccomp profile", name)
	}
	if tpl.Spec.AutomountServiceAccountToken == nil || *tpl.Spec.AutomountServiceAccountToken {
		t.Errorf("%s: the pod needs no Kubernetes API token", name)
	}
	vols := map[string]bool{}
	for _, v := range tpl.Spec.Volumes {
		vols[v.Name] = true
	}
	for _, c := range claims {
		vols[c.Name] = true
	}
	if len(tpl.Spec.Containers) == 0 {
		t.Fatalf("%s: no container", name)
	}
	for _, c := range tpl.Spec.Containers {
		sc := c.SecurityContext
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil ||
			*sc.AllowPrivilegeEscalation || sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" {
			t.Errorf("%s/%s: want a read-only root file system, no privilege escalation, all capabilities dropped", name, c.Name)
		}
		if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
			t.Errorf("%s/%s: want CPU and memory requests and a memory limit", name, c.Name)
		}
		ports := map[int32]bool{}
		for _, p := range c.Ports {
			ports[p.ContainerPort] = true
		}
		for what, p := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
			if p == nil || p.GRPC == nil || !ports[p.GRPC.Port] {
				t.Errorf("%s/%s: want a %s probe on the gRPC health service at a declared port", name, c.Name, what)
			} else if !hasArg(c.Args, "-health-listen", fmt.Sprintf("0.0.0.0:%d", p.GRPC.Port)) {
				t.Errorf("%s/%s: the %s probe's port %d is not the one -health-listen serves", name, c.Name, what, p.GRPC.Port)
			}
		}
		for _, vm := range c.VolumeMounts {
			if !vols[vm.Name] {
				t.Errorf("%s/%s: mount %s has no volume", name, c.Name, vm.Name)
			}
		}
	}
}

func hasArg(args []string, flag, value string) bool {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == flag && args[i+1] == value {
			return true
		}
	}
	return false
}

func TestManifests(t *testing.T) {
	m := load(t)
	if len(m.deployments) != 1 || len(m.statefulSets) != 1 || len(m.configMaps) != 1 || len(m.pdbs) == 0 || len(m.netpols) < 2 {
		t.Fatalf("want one node Deployment, one shard StatefulSet, one ConfigMap, a PodDisruptionBudget and NetworkPolicies; got %d, %d, %d, %d, %d",
			len(m.deployments), len(m.statefulSets), len(m.configMaps), len(m.pdbs), len(m.netpols))
	}
	node, shards, cm := m.deployments[0], m.statefulSets[0], m.configMaps[0]
	ns := "puente"
	for _, o := range []interface{ GetNamespace() string }{node, shards, cm} {
		if o.GetNamespace() != ns {
			t.Errorf("an object is in namespace %q, want %q", o.GetNamespace(), ns)
		}
	}

	// The node: one replica, never two at once.
	if node.Spec.Replicas == nil || *node.Spec.Replicas != 1 || node.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("node: want 1 replica and the Recreate strategy")
	}
	checkPod(t, "node", node.Spec.Selector.MatchLabels, node.Spec.Template)
	checkPod(t, "shards", shards.Spec.Selector.MatchLabels, shards.Spec.Template, shards.Spec.VolumeClaimTemplates...)
	for _, v := range node.Spec.Template.Spec.Volumes {
		if v.Secret == nil && strings.Contains(v.Name, "secret") {
			t.Errorf("node: volume %s is not a Secret", v.Name)
		}
	}

	// The shards: a headless Service that selects them, one volume per shard.
	var headless *corev1.Service
	for _, s := range m.services {
		if s.Name == shards.Spec.ServiceName {
			headless = s
		}
	}
	if headless == nil || headless.Spec.ClusterIP != corev1.ClusterIPNone || !matches(headless.Spec.Selector, shards.Spec.Template.Labels) {
		t.Fatalf("shards: serviceName %q must be a headless Service selecting the shards", shards.Spec.ServiceName)
	}
	if len(shards.Spec.VolumeClaimTemplates) != 1 {
		t.Errorf("shards: want one volume claim template (the partition)")
	}
	for _, p := range m.pdbs {
		if p.Spec.Selector == nil || !matches(p.Spec.Selector.MatchLabels, shards.Spec.Template.Labels) {
			t.Errorf("PodDisruptionBudget %s does not select the shards", p.Name)
		}
	}

	// The configuration: parsed by the node's parser; its shards are the StatefulSet's pods.
	src, ok := cm.Data["puente.hcl"]
	if !ok {
		t.Fatal("ConfigMap has no puente.hcl")
	}
	cfg, err := home.ParseConfig([]byte(src), "/etc/puente/puente.hcl")
	if err != nil {
		t.Fatalf("puente.hcl: %v", err)
	}
	if !hasArg(node.Spec.Template.Spec.Containers[0].Args, "-config", "/etc/puente/puente.hcl") {
		t.Errorf("node: not started with the ConfigMap's puente.hcl")
	}
	if cfg.Shards == nil {
		t.Fatal("puente.hcl names no shards")
	}
	var shardPort int32
	for _, p := range shards.Spec.Template.Spec.Containers[0].Ports {
		if p.Name == "shard" {
			shardPort = p.ContainerPort
		}
	}
	wantDNS := fmt.Sprintf("%s-{i}.%s.%s.svc.cluster.local:%d", shards.Name, headless.Name, ns, shardPort)
	if cfg.Shards.DNS != wantDNS || shards.Spec.Replicas == nil || cfg.Shards.Count != int(*shards.Spec.Replicas) {
		t.Errorf("puente.hcl's shards (%q, count %d) are not the StatefulSet's pods (%q, %v replicas)", cfg.Shards.DNS, cfg.Shards.Count, wantDNS, shards.Spec.Replicas)
	}

	// The network: only the node reaches the shards' protocol port, only the metrics port is
	// open to anything else, and the shards reach nothing.
	for _, np := range m.netpols {
		if !matches(np.Spec.PodSelector.MatchLabels, shards.Spec.Template.Labels) {
			continue
		}
		for _, in := range np.Spec.Ingress {
			fromNode := len(in.From) > 0
			for _, from := range in.From {
				fromNode = fromNode && from.PodSelector != nil && matches(from.PodSelector.MatchLabels, node.Spec.Template.Labels) &&
					from.IPBlock == nil && from.NamespaceSelector == nil
			}
			for _, p := range in.Ports {
				if p.Port == nil || (p.Port.IntValue() != int(shardPort) && p.Port.IntValue() != 9464) || (p.Port.IntValue() == int(shardPort) && !fromNode) {
					t.Errorf("NetworkPolicy %s lets something other than the node reach the shards' port %v", np.Name, p.Port)
				}
			}
			if len(in.Ports) == 0 {
				t.Errorf("NetworkPolicy %s opens every port of the shards", np.Name)
			}
		}
		if len(np.Spec.Egress) != 0 || len(np.Spec.PolicyTypes) != 2 {
			t.Errorf("NetworkPolicy %s: the shards must have no egress", np.Name)
		}
		return
	}
	t.Error("no NetworkPolicy selects the shards")
}

// TestManifestsRefuseUnknownFields: the strict decoding catches a misspelt field (what a
// lenient apply would silently drop).
func TestManifestsRefuseUnknownFields(t *testing.T) {
	doc := "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  replica: 1\n"
	if err := (&manifests{}).decode([]byte(doc)); err == nil {
		t.Error("a Deployment with spec.replica decoded")
	}
	if err := (&manifests{}).decode([]byte("apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n")); err == nil {
		t.Error("an unexpected kind decoded")
	}
}

// TestDockerfile: the image builds a static binary and runs as a non-root user.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{"CGO_ENABLED=0", "USER 65532:65532", "./cmd/puente"} {
		if !strings.Contains(s, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	if strings.Contains(s, "puente_testparams") && !strings.Contains(s, "no\n# puente_testparams") {
		for _, l := range strings.Split(s, "\n") {
			if strings.Contains(l, "puente_testparams") && !strings.HasPrefix(strings.TrimSpace(l), "#") {
				t.Errorf("the image must not be built with the INSECURE parameter sets: %s", l)
			}
		}
	}
}
