#!/usr/bin/env node
// Validates Kubernetes manifests against the Kubernetes OpenAPI schemas that the kubernetes-models
// package ships: required fields, types, enums and formats of every object, looked up by its
// apiVersion and kind. An object whose apiVersion and kind have no schema is an error, and so is
// a second object with the same kind, namespace and name.
//
//   kubectl kustomize deploy/k8s/overlays/cpu | node deploy/k8s/validate/validate.js
//   node deploy/k8s/validate/validate.js rendered.yaml [more.yaml ...]
//
// Prints one line per problem and exits 1 when there is any, else prints a summary and exits 0.
// Fields that the schemas do not know are not reported here (the schemas allow them); the test
// project tests/ShieldCluster.Deploy.Tests checks those with the typed models of KubernetesClient.
"use strict";

const fs = require("fs");
const YAML = require("yaml");

function modelFor(apiVersion, kind) {
  if (typeof apiVersion !== "string" || typeof kind !== "string" || !/^[A-Za-z0-9.\/-]+$/.test(apiVersion) || !/^[A-Za-z0-9]+$/.test(kind)) {
    return undefined;
  }
  let group;
  try {
    group = require(`kubernetes-models/${apiVersion}`);
  } catch {
    return undefined;
  }
  const model = group[kind];
  return typeof model === "function" && model.apiVersion === apiVersion && model.kind === kind ? model : undefined;
}

// kustomize 5 writes long base64 values as YAML block scalars, with line breaks; the API server's
// base64 decoder ignores \r and \n, the schema's "byte" format does not: drop them first.
function normalizeBase64(obj) {
  const fields = obj.apiVersion === "v1" && obj.kind === "Secret" ? ["data"] : obj.apiVersion === "v1" && obj.kind === "ConfigMap" ? ["binaryData"] : [];
  for (const field of fields) {
    const values = obj[field];
    if (values && typeof values === "object" && !Array.isArray(values)) {
      for (const key of Object.keys(values)) {
        if (typeof values[key] === "string") {
          values[key] = values[key].replace(/[\r\n]/g, "");
        }
      }
    }
  }
  return obj;
}

function describe(obj) {
  const kind = obj && typeof obj === "object" && typeof obj.kind === "string" ? obj.kind : "(no kind)";
  const name = obj && obj.metadata && typeof obj.metadata.name === "string" ? obj.metadata.name : "(no name)";
  return `${kind}/${name}`;
}

function validateDocuments(source, text) {
  const problems = [];
  const objects = [];
  const documents = YAML.parseAllDocuments(text);
  documents.forEach((doc, index) => {
    for (const error of doc.errors) {
      problems.push(`${source}: document ${index + 1}: YAML: ${error.message}`);
    }
    if (doc.errors.length > 0) {
      return;
    }
    const obj = doc.toJS();
    if (obj === null || obj === undefined) {
      return; // an empty document, e.g. after a trailing ---
    }
    if (typeof obj !== "object" || Array.isArray(obj)) {
      problems.push(`${source}: document ${index + 1}: not a Kubernetes object`);
      return;
    }
    const where = `${source}: ${describe(obj)}`;
    const Model = modelFor(obj.apiVersion, obj.kind);
    if (!Model) {
      problems.push(`${where}: no schema for apiVersion ${JSON.stringify(obj.apiVersion)} kind ${JSON.stringify(obj.kind)}`);
      return;
    }
    try {
      new Model(normalizeBase64(obj)).validate();
    } catch (error) {
      const details = Array.isArray(error.errors) && error.errors.length > 0
        ? error.errors.map((e) => `${e.instancePath || "/"} ${e.message}${e.params && e.params.allowedValues ? ` (${e.params.allowedValues.join(", ")})` : ""}`)
        : [String(error.message || error)];
      for (const detail of details) {
        problems.push(`${where}: ${detail}`);
      }
    }
    objects.push(obj);
  });
  return { problems, objects };
}

function main(argv) {
  const files = argv.length > 0 ? argv : ["-"];
  const problems = [];
  const seen = new Map();
  let count = 0;
  for (const file of files) {
    const source = file === "-" ? "<stdin>" : file;
    let text;
    try {
      text = fs.readFileSync(file === "-" ? 0 : file, "utf8");
    } catch (error) {
      problems.push(`${source}: cannot read: ${error.message}`);
      continue;
    }
    const result = validateDocuments(source, text);
    problems.push(...result.problems);
    for (const obj of result.objects) {
      count++;
      const namespace = obj.metadata && obj.metadata.namespace ? obj.metadata.namespace : "";
      const key = `${obj.apiVersion}|${obj.kind}|${namespace}|${obj.metadata && obj.metadata.name}`;
      if (seen.has(key)) {
        problems.push(`${source}: ${describe(obj)}: duplicate of an object in ${seen.get(key)} (same kind, namespace and name)`);
      } else {
        seen.set(key, source);
      }
    }
  }
  if (count === 0 && problems.length === 0) {
    problems.push("no Kubernetes object in the input");
  }
  for (const problem of problems) {
    console.log(problem);
  }
  if (problems.length > 0) {
    console.log(`${problems.length} problem(s) in ${count} object(s)`);
    return 1;
  }
  console.log(`${count} object(s) valid`);
  return 0;
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}

module.exports = { validateDocuments, modelFor };
