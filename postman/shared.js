// What several request scripts check or do, each written once: `make postman` puts in front of a script the
// blocks below that it uses (Postman runs every script on its own). One function or constant per block.

// A timestamp as the API writes them: ISO 8601 with a UTC offset.
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

// A fresh user on every run, so the collection can run again and again against the same databases: sets the
// collection variables `<prefix>username`, `<prefix>email` and `<prefix>password`; returns the random part.
function makeUpUser(prefix, namePrefix) {
    const suffix = Date.now().toString(36) + Math.random().toString(36).slice(2, 6);
    pm.collectionVariables.set(prefix + 'username', namePrefix + suffix);
    pm.collectionVariables.set(prefix + 'email', namePrefix + suffix + '@example.com');
    pm.collectionVariables.set(prefix + 'password', 'securepassword123');
    return suffix;
}

// The user the auth service answers with, its fields the values of the collection variables named in
// `variables` ({id, username, email}; without `id`, a new user's id is only checked to be a number).
function expectUser(user, variables) {
    pm.expect(user).to.have.all.keys('id', 'username', 'email', 'is_active');
    if (variables.id) {
        pm.expect(user.id).to.eql(Number(pm.collectionVariables.get(variables.id)));
    } else {
        pm.expect(user.id).to.be.a('number');
    }
    pm.expect(user.username).to.eql(pm.collectionVariables.get(variables.username));
    pm.expect(user.email).to.eql(pm.collectionVariables.get(variables.email));
    pm.expect(user.is_active).to.eql(true);
}

// An answer that is the user of `variables` (see expectUser); returns it.
function expectUserAnswer(variables) {
    const user = pm.response.json();
    pm.test('Returns the user', function () {
        expectUser(user, variables);
    });
    return user;
}

// A registration's answer: the new user of `variables` (see expectUser), never their password; returns it.
function expectRegistered(variables) {
    const user = pm.response.json();
    pm.test('Returns the new user', function () {
        expectUser(user, variables);
    });
    pm.test('Never returns the password', function () {
        pm.expect(user).to.not.have.any.keys('password', 'hashed_password');
    });
    return user;
}

// A token check's answer (/auth/verify, with a token or an API key): valid, and whose it is.
function expectVerified(variables) {
    pm.test('Valid, and names its user', function () {
        const body = pm.response.json();
        pm.expect(body).to.have.all.keys('valid', 'id', 'username', 'email');
        pm.expect(body.valid).to.eql(true);
        pm.expect(body.id).to.eql(Number(pm.collectionVariables.get(variables.id)));
        pm.expect(body.username).to.eql(pm.collectionVariables.get(variables.username));
        pm.expect(body.email).to.eql(pm.collectionVariables.get(variables.email));
    });
}

// A login's answer: a JWT bearer token, stored in the collection variable `variable` when one is named. With
// `previous`, the variable holding an earlier token of the same user, the new one must differ from it.
function expectBearerToken(variable, previous) {
    const body = pm.response.json();
    pm.test('Returns a bearer token', function () {
        pm.expect(body.token_type).to.eql('bearer');
        pm.expect(body.access_token).to.be.a('string');
        pm.expect(body.access_token.split('.')).to.have.lengthOf(3);
    });
    if (previous) {
        pm.test('A token of its own', function () {
            pm.expect(body.access_token).to.not.eql(pm.collectionVariables.get(previous));
        });
    }
    if (variable) {
        pm.collectionVariables.set(variable, body.access_token);
    }
}

// A 401 tells the client what to send.
function expectBearerChallenge() {
    pm.test('Asks for a bearer token', function () {
        pm.response.to.have.header('WWW-Authenticate', 'Bearer');
    });
}

// An error whose detail is the given message.
function expectDetail(detail) {
    pm.test('Says why: "' + detail + '"', function () {
        pm.expect(pm.response.json().detail).to.eql(detail);
    });
}

// A token that no longer counts (logged out, password changed): refused, and asked for again.
function expectTokenRefused() {
    expectDetail('Could not validate credentials');
    expectBearerChallenge();
}

// A deleted API key: refused as invalid.
function expectInvalidApiKey() {
    expectDetail('Invalid API key');
    expectBearerChallenge();
}

// A live stream refused without a token answers at once, not as a stream that never ends.
function expectStreamRefused() {
    expectBearerChallenge();
    pm.test('Answers at once with a JSON error, not a stream', function () {
        pm.expect(pm.response.headers.get('Content-Type')).to.include('application/json');
        pm.expect(pm.response.json().detail).to.eql('Not authenticated');
    });
}

// A 422 names the fields it refused (each error's `loc` ends with the field's name).
function expectInvalidFields(fields) {
    pm.test('Names the invalid field(s)', function () {
        const errors = pm.response.json().detail;
        pm.expect(errors).to.be.an('array').that.is.not.empty;
        pm.expect(errors.map(function (error) { return error.loc[error.loc.length - 1]; })).to.include.members(fields);
    });
}

// A 204: nothing in the body.
function expectNoBody() {
    pm.test('No body', function () {
        pm.expect(pm.response.text()).to.eql('');
    });
}

// A task as the task service answers with it.
function expectTask(task) {
    pm.expect(task).to.include.all.keys('id', 'title', 'description', 'status', 'user_id', 'created_at', 'updated_at');
    pm.expect(task.id).to.be.a('number');
    pm.expect(['Pending', 'In Progress', 'Completed']).to.include(task.status);
    pm.expect(task.created_at).to.match(ISO_8601);
    pm.expect(task.updated_at).to.match(ISO_8601);
}

// A task list that holds exactly the task in the collection variable `variable`, and says so in X-Total-Count.
function expectOnlyTask(variable) {
    const tasks = pm.response.json();
    pm.test('Lists that one task', function () {
        pm.expect(tasks).to.have.lengthOf(1);
        pm.expect(tasks[0].id).to.eql(Number(pm.collectionVariables.get(variable)));
    });
    pm.test('X-Total-Count counts the matches', function () {
        pm.response.to.have.header('X-Total-Count', '1');
    });
    return tasks[0];
}

// A task list with nothing in it.
function expectNoTasks() {
    pm.test('No task, and X-Total-Count 0', function () {
        pm.expect(pm.response.json()).to.eql([]);
        pm.response.to.have.header('X-Total-Count', '0');
    });
}

// A task list (the caller's, whatever it holds).
function expectTaskList() {
    pm.test('Returns a task list', function () {
        pm.expect(pm.response.json()).to.be.an('array');
        pm.expect(pm.response.headers.get('X-Total-Count')).to.match(/^\d+$/);
    });
}

// A deletion's answer.
function expectTaskDeleted() {
    pm.test('Confirms the deletion', function () {
        pm.expect(pm.response.json()).to.eql({ message: 'Task deleted successfully' });
    });
}

// A new API key, named `name`: shown this once, with its prefix; stored in the collection variables `variable`
// (the key) and `variable + '_id'` (its id).
function expectNewApiKey(name, variable) {
    const body = pm.response.json();
    pm.test('Returns the key once, with its prefix', function () {
        pm.expect(body).to.have.all.keys('id', 'name', 'key', 'prefix', 'created_at');
        pm.expect(body.name).to.eql(name);
        pm.expect(body.prefix).to.match(/^tm_[0-9a-f]{8}$/);
        pm.expect(body.key.startsWith(body.prefix + '_')).to.eql(true);
    });
    pm.collectionVariables.set(variable, body.key);
    pm.collectionVariables.set(variable + '_id', body.id);
}

// The key list holds the key of the collection variables `variable` / `variable + '_id'`, never a secret.
function expectApiKeyListed(name, variable) {
    pm.test('Lists the key without the secret', function () {
        const listed = pm.response.json().find((key) => key.id === Number(pm.collectionVariables.get(variable + '_id')));
        pm.expect(listed).to.be.an('object');
        pm.expect(listed).to.have.all.keys('id', 'name', 'prefix', 'created_at', 'last_used_at');
        pm.expect(listed.name).to.eql(name);
        pm.expect(pm.response.text()).to.not.include(pm.collectionVariables.get(variable));
    });
}

// A service's /health when all is well: every check it reports is ok.
function expectHealthy(service) {
    const body = pm.response.json();
    pm.test(service + ' reports itself healthy', function () {
        pm.expect(body.service).to.eql(service);
        pm.expect(body.status).to.eql('ok');
        pm.expect(body.checks).to.be.an('object');
        Object.keys(body.checks).forEach(function (name) {
            pm.expect(body.checks[name], name).to.eql('ok');
        });
    });
}

// /metrics: Prometheus text counting the requests answered (by route, when a route is given).
function expectRequestMetrics(route) {
    pm.test('Is Prometheus text', function () {
        pm.expect(pm.response.headers.get('Content-Type')).to.include('text/plain');
    });
    pm.test('Counts the requests it answered', function () {
        const text = pm.response.text();
        pm.expect(text).to.include('# TYPE http_requests_total counter');
        pm.expect(text).to.match(/^http_requests_total\{[^}]*\} \d/m);
        if (route) {
            pm.expect(text).to.include('route="' + route + '"');
        }
    });
}

// The OpenAPI document has these paths, each with at least the methods listed for it (if any).
function expectOperations(doc, operations) {
    pm.expect(doc.paths).to.include.all.keys(Object.keys(operations));
    Object.keys(operations).forEach(function (path) {
        if (operations[path].length) {
            pm.expect(doc.paths[path], path).to.include.all.keys(operations[path]);
        }
    });
}

// A service's own OpenAPI document, titled `title`, describing `operations` (see expectOperations).
function expectServiceDocument(title, operations) {
    const doc = pm.response.json();
    pm.test('Is the ' + title + '\'s own OpenAPI document', function () {
        pm.expect(pm.response.headers.get('Content-Type')).to.include('application/json');
        pm.expect(doc.openapi).to.match(/^3\./);
        pm.expect(doc.info.title).to.eql(title);
    });
    pm.test('Describes its own endpoints', function () {
        expectOperations(doc, operations);
    });
}

// How often a request for notifications is sent again while they have not all arrived.
const MAX_POLL_ATTEMPTS = 20;

// Before a request that polls for notifications: on a retry, wait a little before asking again.
function waitBeforeRetry() {
    if (Number(pm.collectionVariables.get('poll_attempt') || 0) > 0) {
        setTimeout(function () {}, 500);
    }
}

// Notifications arrive asynchronously (task service -> RabbitMQ -> notification service): while
// `arrived(notifications)` is false, run this same request again (its pre-request script waits first), at most
// MAX_POLL_ATTEMPTS times; then check the list, and call `check(notifications)` for the request's own tests.
function whenNotificationsArrive(arrived, check) {
    const attempt = Number(pm.collectionVariables.get('poll_attempt') || 0);
    const notifications = pm.response.code === 200 ? pm.response.json() : [];
    if (!arrived(notifications) && pm.response.code === 200 && attempt + 1 < MAX_POLL_ATTEMPTS) {
        pm.collectionVariables.set('poll_attempt', attempt + 1);
        postman.setNextRequest(pm.info.requestId);
        return;
    }
    pm.collectionVariables.set('poll_attempt', 0);
    pm.test('Every notification has the documented fields', function () {
        pm.expect(notifications).to.be.an('array');
        notifications.forEach(function (n) {
            pm.expect(n).to.include.all.keys('id', 'event_id', 'event_type', 'task_id', 'title', 'message', 'created_at');
            pm.expect(n.created_at).to.match(ISO_8601);
        });
    });
    pm.test('Newest first', function () {
        for (let i = 1; i < notifications.length; i++) {
            pm.expect(notifications[i - 1].id).to.be.above(notifications[i].id);
        }
    });
    check(notifications);
}

// The notifications of type `eventType` about the task in the collection variable `variable`.
function notificationsAbout(notifications, variable, eventType) {
    const taskId = Number(pm.collectionVariables.get(variable));
    return notifications.filter(function (n) { return n.task_id === taskId && n.event_type === eventType; });
}

// The task_created notification about the task in the collection variable `variable`, for a task titled `title`.
function expectCreatedNotification(notifications, variable, title) {
    pm.test('A task_created notification for the task', function () {
        const created = notificationsAbout(notifications, variable, 'task_created')[0];
        pm.expect(created, 'task_created notification').to.be.an('object');
        pm.expect(created.title).to.eql(title);
        pm.expect(created.message).to.include(title);
    });
}
