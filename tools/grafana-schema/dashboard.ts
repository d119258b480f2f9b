// The type each generated dashboard must satisfy: @grafana/schema's `Dashboard`, read as
// the JSON Grafana loads from disk. Two departures from the TypeScript types, both
// Grafana's own behaviour, not looseness in baocao's generator:
import type { Dashboard, VariableModel } from "@grafana/schema";

// 1. A TypeScript string enum (e.g. `MappingType.ValueToText`) is written in JSON as its
//    value ("value"), the only way a JSON file can spell it; TypeScript alone treats
//    the enum as nominal and refuses the string. Here every string enum stands for the
//    union of its values, so a misspelt value is still an error.
export type Wire<T> = T extends string
  ? `${T}`
  : T extends object
    ? { [K in keyof T]: Wire<T[K]> }
    : T;

// 2. `definition`: the text Grafana shows for a query variable in the dashboard settings
//    (a ClickHouse query is an object, not text). Grafana's own dashboard serializer
//    writes it for every query variable, though the generated schema does not list it.
export type GrafanaVariable = Wire<VariableModel> & { definition?: string };

export type GrafanaDashboard = Omit<Wire<Dashboard>, "templating"> & {
  templating?: { list?: GrafanaVariable[] };
};
