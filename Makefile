# The project's interface: README, CI and operators rely on these target names.
PORT ?= 8000
PY := .venv/bin/python

.PHONY: setup run serve worker test test-postgis schema schema-check lint bench demo

setup:
	@bash scripts/setup.sh

demo: setup
	@$(PY) manage.py load_demo

run: demo
	@echo "Gongwucang on http://127.0.0.1:$(PORT)/  (GraphiQL /graphql/, admin /admin/, /healthz)"
	@PORT=$(PORT) bash scripts/run.sh

serve: setup
	@echo "Gongwucang (gunicorn) on http://$${HOST:-127.0.0.1}:$(PORT)/"
	@PORT=$(PORT) bash scripts/serve.sh

worker: setup
	.venv/bin/celery -A config worker --beat --schedule var/celerybeat-schedule --loglevel=info

test: setup
	.venv/bin/pytest $(PYTEST_ARGS)

test-postgis: setup
	bash scripts/test-postgis.sh $(PYTEST_ARGS)

schema: setup
	$(PY) manage.py graphql_schema --schema config.schema.schema --out graphql/schema.graphql
	@echo "wrote graphql/schema.graphql"
	$(PY) manage.py error_codes

schema-check: setup
	@$(PY) manage.py graphql_schema --schema config.schema.schema --out var/schema.check.graphql >/dev/null
	@diff -u graphql/schema.graphql var/schema.check.graphql && echo "schema: no drift" \
	  || (echo "schema drift: run 'make schema' and commit graphql/schema.graphql" >&2; exit 1)

lint: setup
	.venv/bin/ruff check .
	.venv/bin/lint-imports

# the bench's cluster: durable commits, and shared_buffers sized for the 1M-listing tables (~0.7 GB), as a
# production server's would be (PostgreSQL's default of 128 MB is for small machines)
bench: setup
	PG_DURABLE=1 PG_EXTRA_OPTIONS="-c shared_buffers=1GB" PG_COMMAND="GWC_DB_AS_OWNER=1 $(PY) -m bench.run" \
	  bash scripts/test-postgis.sh
	$(PY) -m bench.table --readme
