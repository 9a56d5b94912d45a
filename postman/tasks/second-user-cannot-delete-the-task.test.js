expectDetail('Task not found');
