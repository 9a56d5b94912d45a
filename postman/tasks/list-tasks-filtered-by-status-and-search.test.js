const tasks = pm.response.json();
pm.test('Only the matching task', function () {
    pm.expect(tasks).to.have.lengthOf(1);
    pm.expect(tasks[0].id).to.eql(Number(pm.collectionVariables.get('task_id')));
    pm.expect(tasks[0].status).to.eql('Pending');
    pm.expect(tasks[0].title).to.include('documentation');
});
pm.test('X-Total-Count counts the matches', function () {
    pm.response.to.have.header('X-Total-Count', '1');
});
