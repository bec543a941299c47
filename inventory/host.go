package inventory

// Host is one inventory record: a JSON document with the upstream fields
// (hostname, name, _broker_provider, _broker_provider_instance, _broker_args)
// and whatever the provider adds (container id, image, ports, ...).
type Host map[string]any

// Well-known record fields, as upstream broker writes them.
const (
	FieldHostname = "hostname"
	FieldName     = "name"
	FieldProvider = "_broker_provider"
	FieldInstance = "_broker_provider_instance"
	FieldArgs     = "_broker_args"
)

func (h Host) str(key string) string {
	if s, ok := h[key].(string); ok {
		return s
	}
	return ""
}

// Hostname is the record's hostname, or "".
func (h Host) Hostname() string { return h.str(FieldHostname) }

// Name is the record's name, or "".
func (h Host) Name() string { return h.str(FieldName) }

// Provider is the name of the provider that made the host, or "".
func (h Host) Provider() string { return h.str(FieldProvider) }

// Instance is the provider instance the host came from, or "".
func (h Host) Instance() string { return h.str(FieldInstance) }

// Args are the broker arguments the host was checked out with (nil if none).
func (h Host) Args() map[string]any {
	m, _ := h[FieldArgs].(map[string]any)
	return m
}

// Label is the best short way to name the host to a person: its hostname,
// else its name, else "(unnamed host)".
func (h Host) Label() string {
	if s := h.Hostname(); s != "" {
		return s
	}
	if s := h.Name(); s != "" {
		return s
	}
	return "(unnamed host)"
}

// Clone returns a deep copy (through JSON, the form the record is stored
// in, so the copy holds the types List returns: integers as int64). If h
// cannot be stored as JSON, Clone returns h itself.
func (h Host) Clone() Host {
	if h == nil {
		return nil
	}
	b, err := encodeHost(h)
	if err != nil {
		return h
	}
	c, err := decodeHost(b, nil)
	if err != nil {
		return h
	}
	return c
}
