pm.test('Returns the updated task', function () {
    const task = pm.response.json();
    expectTask(task);
    pm.expect(task.id).to.eql(Number(pm.collectionVariables.get('task_id')));
    pm.expect(task.title).to.eql('Updated title');
    pm.expect(task.description).to.eql('Updated description');
    pm.expect(task.status).to.eql('In Progress');
    pm.expect(Date.parse(task.updated_at)).to.be.at.least(Date.parse(task.created_at));
});
