package httpapi

import (
	"path"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"
)

// newSchemaRegistry returns the OpenAPI schema registry: schemas are named
// after their Go types, as huma does by default, except that a name
// another type took first is qualified by the type's package (record's
// Customer after httpapi's becomes RecordCustomer), then numbered. huma's
// own namer gives both the bare name, and its registry panics on the
// second type at startup.
func newSchemaRegistry() huma.Registry {
	var mu sync.Mutex
	owners := map[string]reflect.Type{}
	namer := func(t reflect.Type, hint string) string {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		name := huma.DefaultSchemaNamer(t, hint)
		mu.Lock()
		defer mu.Unlock()
		taken := func(n string) bool { owner, ok := owners[n]; return ok && owner != t }
		if taken(name) {
			if pkg := path.Base(t.PkgPath()); pkg != "." && pkg != "/" {
				name = strings.ToUpper(pkg[:1]) + pkg[1:] + name
			}
			for i, base := 2, name; taken(name); i++ {
				name = base + strconv.Itoa(i)
			}
		}
		owners[name] = t
		return name
	}
	return huma.NewMapRegistry("#/components/schemas/", namer)
}
