const tasks = pm.response.json();
pm.test('Only the matching task', function () {
    pm.expect(tasks).to.have.lengthOf(1);
    pm.expect(tasks[0].id).to.eql(Number(pm.collectionVariables.get('direct_task_id')));
    pm.expect(tasks[0].status).to.eql('Completed');
    pm.expect(tasks[0].description).to.include('Direct');
});
pm.test('X-Total-Count counts the matches', function () {
    pm.response.to.have.header('X-Total-Count', '1');
});
