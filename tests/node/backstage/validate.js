#!/usr/bin/env node
// Validates catalog entities (YAML, multi-document, or JSON) with @backstage/catalog-model's
// own policies and kind validators, the way Backstage's catalog processes an entity.
// Usage: node validate.js FILE... (or "-" for stdin). Prints one JSON report on stdout:
// {"entities": N, "errors": [{"index", "ref", "message"}]}; exits 1 when any entity fails.
'use strict';

const fs = require('fs');
const YAML = require('yaml');
const model = require('@backstage/catalog-model');

const policies = model.EntityPolicies.allOf([
  new model.DefaultNamespaceEntityPolicy(),
  new model.NoForeignRootFieldsEntityPolicy(),
  new model.FieldFormatEntityPolicy(),
  new model.SchemaValidEntityPolicy(),
]);
const kindValidators = [
  model.apiEntityV1alpha1Validator, model.componentEntityV1alpha1Validator,
  model.domainEntityV1alpha1Validator, model.groupEntityV1alpha1Validator,
  model.locationEntityV1alpha1Validator, model.resourceEntityV1alpha1Validator,
  model.systemEntityV1alpha1Validator, model.userEntityV1alpha1Validator,
];

function entitiesOf(text) {
  const trimmed = text.trim();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    const data = JSON.parse(trimmed);
    return Array.isArray(data) ? data : [data];
  }
  return YAML.parseAllDocuments(text).map((doc) => {
    if (doc.errors.length) throw new Error(doc.errors[0].message);
    return doc.toJS({ maxAliasCount: 1000 });
  }).filter((e) => e !== null && e !== undefined);
}

async function check(entity) {
  const copy = JSON.parse(JSON.stringify(entity));
  const applied = await policies.enforce(copy);
  if (!applied) throw new Error('rejected by the entity policies');
  let known = false;
  for (const validator of kindValidators) {
    // check() returns false for another kind, throws for a malformed entity of its kind.
    if (await validator.check(applied)) known = true;
  }
  if (!known) throw new Error(`no kind validator accepts ${entity.apiVersion} ${entity.kind}`);
}

async function main() {
  const files = process.argv.slice(2);
  const texts = files.length ? files.map((f) => fs.readFileSync(f === '-' ? 0 : f, 'utf8'))
    : [fs.readFileSync(0, 'utf8')];
  const errors = [];
  let count = 0;
  for (const text of texts) {
    for (const entity of entitiesOf(text)) {
      count += 1;
      const meta = (entity && entity.metadata) || {};
      const ref = `${entity && entity.kind}:${meta.namespace || 'default'}/${meta.name}`;
      try {
        await check(entity);
      } catch (error) {
        errors.push({ index: count, ref, message: String(error.message || error) });
      }
    }
  }
  process.stdout.write(`${JSON.stringify({ entities: count, errors })}\n`);
  process.exitCode = errors.length ? 1 : 0;
}

main().catch((error) => {
  process.stdout.write(`${JSON.stringify({ entities: 0, errors: [{ message: String(error) }] })}\n`);
  process.exitCode = 2;
});
