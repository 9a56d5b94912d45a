const doc = pm.response.json();
pm.test('Is the Task Service\'s own OpenAPI document', function () {
    pm.expect(pm.response.headers.get('Content-Type')).to.include('application/json');
    pm.expect(doc.openapi).to.match(/^3\./);
    pm.expect(doc.info.title).to.eql('Task Service');
});
pm.test('Describes its own endpoints', function () {
    pm.expect(doc.paths).to.include.all.keys('/tasks', '/tasks/{task_id}', '/health');
    pm.expect(doc.paths['/tasks']).to.include.all.keys('get', 'post');
    pm.expect(doc.paths['/tasks/{task_id}']).to.include.all.keys('get', 'put', 'patch', 'delete');
});
