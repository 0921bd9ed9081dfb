// Command kubelet is the upstream node agent, built from the k8s.io/kubernetes
// module so that Flotilla's real-node tests run Pods without prebuilt binaries.
package main

import (
	"context"
	"os"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"            // JSON log format
	_ "k8s.io/component-base/metrics/prometheus/restclient" // client-go metrics
	_ "k8s.io/component-base/metrics/prometheus/version"    // version metric
	"k8s.io/kubernetes/cmd/kubelet/app"
)

func main() {
	os.Exit(cli.Run(app.NewKubeletCommand(context.Background())))
}
