package drift

import "sort"

// Informers lists the running informers as identity|group/version/resource|namespace.
func (w *Watcher) Informers() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]string, 0, len(w.informers))
	for k := range w.informers {
		out = append(out, k.String())
	}
	sort.Strings(out)
	return out
}
