package settings

import (
	"fmt"
	"sort"
	"strings"
)

// isSection reports whether a top-level value can be a provider section.
func isSection(v any) bool {
	if v == nil {
		return true
	}
	_, ok := v.(map[string]any)
	return ok
}

// isProviderKey reports whether a top-level key can name a provider: not
// empty, not a base key, not starting with "_" (like _version).
func isProviderKey(k string) bool {
	return k != "" && !strings.HasPrefix(k, "_") && baseKey(k) == ""
}

// ProviderNames returns the top-level keys that look like provider
// sections (a map or null value, not a base key such as logging or nicks,
// not starting with "_"),
// sorted, spelled as in the settings. A section created only by the
// environment is spelled in lower case (BROKER_ANSIBLETOWER__… gives
// "ansibletower"), so compare with the registry case-insensitively.
func (s *Settings) ProviderNames() []string {
	var out []string
	for k, v := range s.m {
		if isProviderKey(k) && isSection(v) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// providerKey finds a provider section: the exact name, else a
// case-insensitive match.
func (s *Settings) providerKey(name string) (string, bool) {
	if !isProviderKey(name) {
		return "", false
	}
	if v, ok := s.m[name]; ok && isSection(v) {
		return name, true
	}
	best := ""
	for k, v := range s.m {
		if strings.EqualFold(k, name) && isSection(v) && (best == "" || k < best) {
			best = k
		}
	}
	return best, best != ""
}

// HasProvider reports whether the settings have a section for the provider
// (name matched exactly, then case-insensitively). A provider is
// "configured" when it has one.
func (s *Settings) HasProvider(name string) bool {
	_, ok := s.providerKey(name)
	return ok
}

// instances returns the provider's instances map and names in order.
func (s *Settings) instances(key string) (map[string]any, []string) {
	sec, _ := s.m[key].(map[string]any)
	insts, _ := sec["instances"].(map[string]any)
	if len(insts) == 0 {
		return nil, nil
	}
	return insts, orderedKeys(insts, s.order["instances\x00"+key])
}

// defaultInstance is the instance used when none is asked for: the one
// with default: true, else the only one, else "".
func defaultInstance(insts map[string]any, names []string) string {
	for _, n := range names {
		if im, ok := insts[n].(map[string]any); ok {
			if d, _ := im["default"].(bool); d {
				return n
			}
		}
	}
	if len(names) == 1 {
		return names[0]
	}
	return ""
}

// Instances returns the provider's instance names (file order, then those
// added by the environment, sorted) and the one used when none is asked
// for ("" when there are several and none is the default, or none at all).
func (s *Settings) Instances(provider string) (names []string, def string) {
	key, ok := s.providerKey(provider)
	if !ok {
		return nil, ""
	}
	insts, names := s.instances(key)
	return names, defaultInstance(insts, names)
}

// Provider returns the configuration a provider is built from: a copy of
// its section without "instances", overlaid with the chosen instance
// (instance keys win; maps merge), and its name.
//
// The instance is the one named (exact, then case-insensitive match;
// unknown → *NotFoundError, where upstream silently falls back), else the
// one with default: true, else the only one. With several instances and no
// default there is no overlay and chosen is "".
//
// Unless the instance sets override_envars: true, the BROKER_ environment
// variables for the provider are applied again after the overlay, so they
// beat instance values; command-line overrides always are. The keys
// "default" and "override_envars" are removed from the result.
//
// A missing section is a *NotFoundError of Kind "provider".
func (s *Settings) Provider(name, instance string) (cfg map[string]any, chosen string, err error) {
	key, ok := s.providerKey(name)
	if !ok {
		return nil, "", &NotFoundError{Kind: "provider", Name: name, Known: s.ProviderNames(),
			Hint: fmt.Sprintf("add a %s: section to %s", name, s.File)}
	}
	cfg, _ = deepCopy(s.m[key]).(map[string]any)
	if cfg == nil {
		cfg = map[string]any{}
	}
	delete(cfg, "instances")
	insts, names := s.instances(key)

	if instance != "" {
		if _, ok := insts[instance]; ok {
			chosen = instance
		} else {
			chosen = foldKey(insts, instance)
		}
		if chosen == "" {
			hint := fmt.Sprintf("define it under %s.instances in %s", key, s.File)
			if len(names) > 0 {
				hint = "pick one of them, or " + hint
			}
			return nil, "", &NotFoundError{Kind: "instance", Name: instance, Scope: key, Known: names, Hint: hint}
		}
	} else {
		chosen = defaultInstance(insts, names)
	}

	overrideEnv := false
	if chosen != "" {
		im, _ := deepCopy(insts[chosen]).(map[string]any)
		overrideEnv, _ = im["override_envars"].(bool)
		mergeInto(cfg, im)
	}
	delete(cfg, "instances") // an instance has none of its own
	delete(cfg, "default")
	delete(cfg, "override_envars")

	reapply := func(es []entry) {
		for _, e := range es {
			if !strings.EqualFold(e.path[0], key) {
				continue
			}
			if len(e.path) == 1 {
				if m, ok := deepCopy(e.value).(map[string]any); ok {
					delete(m, "instances")
					mergeInto(cfg, m)
				}
				continue
			}
			if e.path[1] == "instances" {
				continue
			}
			setPath(cfg, e.path[1:], deepCopy(e.value))
		}
	}
	if chosen != "" {
		if !overrideEnv {
			reapply(s.env)
		}
		reapply(s.over)
	}
	return cfg, chosen, nil
}

// Validate checks one part of the settings, for broker config validate:
//
//	"base"               the base keys (logging, thread_limit, inventory_fields, nicks, …)
//	"ssh"                the ssh section
//	"all"                base, ssh, and every provider section and instance
//	"Provider"           the section exists and its default instance resolves
//	"Provider:instance"  the section and that instance exist
//
// Load has already validated base keys, so these mostly matter for
// providers; the caller should also build the provider so that its own
// checks run. Anything else is a *NotFoundError.
func (s *Settings) Validate(chunk string) error {
	blame := func(v *ValidationError) error {
		if v == nil {
			return nil
		}
		return s.blame(v, nil)
	}
	switch chunk {
	case "base":
		return blame(validateBase(s.m))
	case "ssh":
		return blame(validateSSH(s.m))
	case "all":
		if err := blame(validate(s.m)); err != nil {
			return err
		}
		for _, p := range s.ProviderNames() {
			names, _ := s.Instances(p)
			if len(names) == 0 {
				names = []string{""}
			}
			for _, n := range names {
				if _, _, err := s.Provider(p, n); err != nil {
					return err
				}
			}
		}
		return nil
	}
	name, inst, _ := strings.Cut(chunk, ":")
	if !s.HasProvider(name) {
		known := append([]string{"all", "base", "ssh"}, s.ProviderNames()...)
		return &NotFoundError{Kind: "validation target", Name: chunk, Known: known,
			Hint: "name a provider configured in " + s.File + ", optionally as Provider:instance"}
	}
	key, _ := s.providerKey(name)
	if sec, ok := s.m[key].(map[string]any); ok {
		if err := blame(validateInstances(key, sec)); err != nil {
			return err
		}
	}
	_, _, err := s.Provider(name, inst)
	return err
}
