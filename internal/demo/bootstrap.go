package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/flotilla-io/flotilla/internal/bootstrap"
)

// sourceInterval is how often the demo's GitRepositories fetch; the
// rollout does not wait for it (it asks for a fetch as a webhook would).
const sourceInterval = time.Minute

// bootstrap runs `flotilla bootstrap` on the cluster, with the Git
// server's credentials: the agent installed (CRDs, RBAC, Deployment), the
// credentials Secret, the GitRepository and the root Stack for
// ./clusters/<name>. The directory exists in the example fleet, so nothing
// is committed. It does not wait: the agents start after.
func (f *fleet) bootstrap(ctx context.Context, c *cluster) error {
	o := bootstrap.DefaultOptions()
	o.URL, o.Branch, o.Path = f.repo.url, "main", "clusters/"+c.name
	o.Username, o.Password = f.repo.username, f.repo.password
	o.Interval = sourceInterval
	o.Wait = false
	if c.node != nil {
		o.Install.Image = f.images.agent
	}
	res, err := bootstrap.Run(ctx, c.config, o, func(line string) {
		f.o.Report.Waiting("bootstrapping %s: %s", c.name, line)
	})
	if err != nil {
		return fmt.Errorf("bootstrapping %s: %w", c.name, err)
	}
	if c.node != nil {
		if err := f.registrySecrets(ctx, c); err != nil {
			return err
		}
	}
	f.o.Report.Step("✔ bootstrapped %s: %d objects applied (agent, CRDs, RBAC, Secret, GitRepository %s, Stack %s -> ./%s)",
		c.name, len(res.Changes.Changes), o.SourceName, o.StackName, o.Path)
	return nil
}
