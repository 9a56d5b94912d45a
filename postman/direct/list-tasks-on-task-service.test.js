pm.test('Lists the one task', function () {
    const tasks = pm.response.json();
    pm.expect(tasks).to.have.lengthOf(1);
    pm.expect(tasks[0].id).to.eql(Number(pm.collectionVariables.get('direct_task_id')));
    pm.response.to.have.header('X-Total-Count', '1');
});
