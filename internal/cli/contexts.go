package cli

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// rawKubeconfig loads the kubeconfig as kubectl does (the path, else
// $KUBECONFIG, else ~/.kube/config), unresolved, for its context names.
func rawKubeconfig(path string) (clientcmdapi.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = path
	raw, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).RawConfig()
	if err != nil {
		return raw, fmt.Errorf("loading kubeconfig: %w", err)
	}
	return raw, nil
}

// allContexts returns every context of the kubeconfig, sorted.
func allContexts(path string) ([]string, error) {
	raw, err := rawKubeconfig(path)
	if err != nil {
		return nil, err
	}
	if len(raw.Contexts) == 0 {
		return nil, errors.New("the kubeconfig has no contexts")
	}
	names := make([]string, 0, len(raw.Contexts))
	for name := range raw.Contexts {
		names = append(names, name)
	}
	slices.Sort(names)
	return names, nil
}

// splitContexts splits a comma-separated --context list, dropping blanks
// and repeats, in the order given.
func splitContexts(list string) []string {
	var names []string
	for name := range strings.SplitSeq(list, ",") {
		if name = strings.TrimSpace(name); name != "" && !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names
}
