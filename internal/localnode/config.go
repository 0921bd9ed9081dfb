package localnode

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"text/template"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Addresses of the test ground's networks. They are fixed (one node per
// machine at a time) and kept away from the ranges machines usually use.
const (
	// NodeIP is the node's address, held by a bridge with no ports. The API
	// server, the kubelet, the registry and the cluster DNS listen on it, so
	// that Pods reach them.
	NodeIP = "10.213.0.1"
	// PodCIDR is the cluster's Pod network; the node's own range is
	// NodePodCIDR.
	PodCIDR     = "10.244.0.0/16"
	NodePodCIDR = "10.244.0.0/24"
	// ServiceCIDR is the range of ClusterIPs; KubernetesServiceIP is the
	// first, the `kubernetes` Service.
	ServiceCIDR         = "10.97.0.0/16"
	KubernetesServiceIP = "10.97.0.1"
	// ClusterDomain is the DNS domain of Services.
	ClusterDomain = "cluster.local"

	nodeLink   = "flnode0"
	podBridge  = "flcni0"
	cgroupRoot = "/flotilla-node"
)

// ports are the TCP ports the test ground picked.
type ports struct {
	EtcdClient, EtcdPeer, APIServer, ControllerManager, Scheduler int
	Kubelet, KubeletHealthz, ProxyHealthz, ProxyMetrics, Stream   int
	Registry, DNSHealth, DNSReady                                 int
}

func pickPorts() (ports, error) {
	p, err := freePorts("127.0.0.1", 13)
	if err != nil {
		return ports{}, &StepError{Step: "picking free ports", Err: err}
	}
	return ports{
		EtcdClient: p[0], EtcdPeer: p[1], APIServer: p[2], ControllerManager: p[3], Scheduler: p[4],
		Kubelet: p[5], KubeletHealthz: p[6], ProxyHealthz: p[7], ProxyMetrics: p[8], Stream: p[9],
		Registry: p[10], DNSHealth: p[11], DNSReady: p[12],
	}, nil
}

// configData is what the configuration templates read.
type configData struct {
	Dir, NodeName, NodeIP, PodCIDR, NodePodCIDR, ClusterDomain string
	PodBridge, CgroupRoot, PauseImage, CA, Socket              string
	RegistryHost, RegistryUser, RegistryPassword               string
	Ports                                                      ports
}

const containerdConfig = `version = 2
root = "{{.Dir}}/containerd/root"
state = "{{.Dir}}/containerd/state"

[grpc]
  address = "{{.Socket}}"

[ttrpc]
  address = "{{.Socket}}.ttrpc"

[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = "{{.Dir}}/containerd/opt"
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "{{.PauseImage}}"
    restrict_oom_score_adj = true
    netns_mounts_under_state_dir = true
    stream_server_address = "127.0.0.1"
    stream_server_port = "{{.Ports.Stream}}"
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "runc"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          SystemdCgroup = false
          Root = "{{.Dir}}/runc"
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = "{{.Dir}}/cni/net.d"
    [plugins."io.containerd.grpc.v1.cri".registry.configs."{{.RegistryHost}}".tls]
      ca_file = "{{.CA}}"
    [plugins."io.containerd.grpc.v1.cri".registry.configs."{{.RegistryHost}}".auth]
      username = "{{.RegistryUser}}"
      password = "{{.RegistryPassword}}"
`

const cniConfig = `{
  "cniVersion": "0.4.0",
  "name": "flotilla-node",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "{{.PodBridge}}",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "{{.Dir}}/cni/ipam",
        "ranges": [[{"subnet": "{{.NodePodCIDR}}"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
`

const kubeletConfig = `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: {{.CgroupRoot}}
failSwapOn: false
containerRuntimeEndpoint: unix://{{.Socket}}
address: {{.NodeIP}}
port: {{.Ports.Kubelet}}
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: {{.Ports.KubeletHealthz}}
tlsCertFile: {{.Dir}}/pki/kubelet-serving.crt
tlsPrivateKeyFile: {{.Dir}}/pki/kubelet-serving.key
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
  x509:
    clientCAFile: {{.CA}}
authorization:
  mode: Webhook
clusterDNS:
- {{.NodeIP}}
clusterDomain: {{.ClusterDomain}}
resolvConf: {{.Dir}}/resolv.conf
evictionHard: {}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
podLogsDir: {{.Dir}}/pod-logs
serializeImagePulls: false
nodeStatusReportFrequency: 10s
`

const kubeProxyConfig = `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: {{.Dir}}/kube-proxy.kubeconfig
mode: iptables
clusterCIDR: {{.PodCIDR}}
hostnameOverride: {{quote .NodeName}}
healthzBindAddress: 127.0.0.1:{{.Ports.ProxyHealthz}}
metricsBindAddress: 127.0.0.1:{{.Ports.ProxyMetrics}}
nodePortAddresses:
- {{.NodeIP}}/32
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
`

const corefile = `.:53 {
    bind {{.NodeIP}}
    errors
    health 127.0.0.1:{{.Ports.DNSHealth}}
    ready 127.0.0.1:{{.Ports.DNSReady}}
    kubernetes {{.ClusterDomain}} in-addr.arpa ip6.arpa {
        kubeconfig {{.Dir}}/admin.kubeconfig
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 5
}
`

const registryConfig = `version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {{.Dir}}/registry/data
  delete:
    enabled: true
http:
  addr: {{.RegistryHost}}
  secret: flotilla-test-ground
  tls:
    certificate: {{.Dir}}/pki/registry.crt
    key: {{.Dir}}/pki/registry.key
auth:
  htpasswd:
    realm: flotilla-test-ground
    path: {{.Dir}}/registry/htpasswd
`

// templateFuncs are the functions the configuration templates call. quote
// makes a YAML string of a value that could read as another type (a node
// named "1234" or "true").
var templateFuncs = template.FuncMap{"quote": strconv.Quote}

// writeTemplate renders text with d into path.
func writeTemplate(path, text string, d configData) error {
	t, err := template.New(filepath.Base(path)).Option("missingkey=error").Funcs(templateFuncs).Parse(text)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return fmt.Errorf("rendering %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o600)
}

// writeKubeconfig writes a kubeconfig that reaches server with the client
// certificate issued as certName.
func writeKubeconfig(path, server string, ca *authority, certName string) error {
	certFile, keyFile := ca.pair(certName)
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["flotilla-node"] = &clientcmdapi.Cluster{Server: server, CertificateAuthority: ca.CertFile()}
	cfg.AuthInfos[certName] = &clientcmdapi.AuthInfo{ClientCertificate: certFile, ClientKey: keyFile}
	cfg.Contexts["flotilla-node"] = &clientcmdapi.Context{Cluster: "flotilla-node", AuthInfo: certName}
	cfg.CurrentContext = "flotilla-node"
	return clientcmd.WriteToFile(*cfg, path)
}
